import { PostForm } from '../../core/views/components.tsx';
import type { PageContext } from '../../core/views/layout.tsx';
import { AccountLayout } from '../accounts/accounts.views.tsx';
import type { SpacePageView } from './documents.presenter.ts';

export function SpacePage({ ctx, view }: { ctx: PageContext; view: SpacePageView }) {
  return (
    <AccountLayout ctx={ctx} account={view.account} title={view.title}>
      {view.tabs.length > 1 ? (
        <nav class="tabs" aria-label="Espaces de documents">
          <ul>
            {view.tabs.map((t) => (
              <li key={t.href}>
                <a href={t.href} aria-current={t.selected ? 'page' : undefined}>
                  {t.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
      ) : null}
      <p>{view.intro}</p>
      {view.groups.length === 0 ? <p class="muted">{view.empty}</p> : null}
      {view.groups.map((g) => (
        <section class="card" key={g.code} aria-labelledby={`categorie-${g.code}`}>
          <h2 id={`categorie-${g.code}`}>{g.label}</h2>
          <div class="table-wrapper">
            <table class="data-table">
              <caption class="visually-hidden">{g.label}, du plus récent au plus ancien</caption>
              <thead>
                <tr>
                  <th scope="col">Document</th>
                  <th scope="col">Date</th>
                </tr>
              </thead>
              <tbody>
                {g.documents.map((d) => (
                  <tr key={d.id}>
                    <th scope="row">
                      {d.title}
                      {d.isNew ? (
                        <>
                          {' '}
                          <span class="badge">Nouveau</span>
                        </>
                      ) : null}
                      <span class="document-file">{d.typeAndSize}</span>
                      <span class="document-actions">
                        <a class="button button-small" href={d.downloadHref}>
                          Télécharger<span class="visually-hidden"> «&nbsp;{d.title}&nbsp;»</span>
                        </a>
                        {d.viewHref ? (
                          <a class="button button-small button-secondary" href={d.viewHref}>
                            Voir<span class="visually-hidden"> «&nbsp;{d.title}&nbsp;»</span>
                          </a>
                        ) : null}
                      </span>
                    </th>
                    <td>{d.date}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </section>
      ))}
    </AccountLayout>
  );
}

/** The Profil section where a person asks for (or stops) the email about new documents. */
export function DocumentNoticeSection({ csrfToken, on }: { csrfToken: string; on: boolean }) {
  return (
    <section class="card" aria-labelledby="avis-documents-titre">
      <h2 id="avis-documents-titre">Nouveaux documents</h2>
      <PostForm action="/profil/avis-documents" csrfToken={csrfToken} submit="Enregistrer ce choix">
        <div class="field">
          <label for="avis-documents">
            <input
              type="checkbox"
              id="avis-documents"
              name="avis"
              value="oui"
              checked={on}
              aria-describedby="avis-documents-aide"
            />
            Recevoir un email quand un nouveau document est publié
          </label>
          <p class="hint" id="avis-documents-aide">
            Un email par jour au plus, le matin, listant les documents publiés depuis le précédent dans vos espaces.
          </p>
        </div>
      </PostForm>
    </section>
  );
}
