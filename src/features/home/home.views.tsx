import { Layout, type PageContext } from '../../core/views/layout.tsx';
import type { AccountCardView, HomeView } from './home.presenter.ts';

export function HomePage({ ctx, view }: { ctx: PageContext; view: HomeView }) {
  return (
    <Layout ctx={ctx} title="Accueil">
      <div class="page-header">
        <h1>Bienvenue, {view.welcomeName}</h1>
        <a class="button" href="/comptes/ajouter">
          Ajouter un compte
        </a>
      </div>
      {view.tabs.length === 0 ? (
        <NoAccount />
      ) : (
        <>
          <nav class="tabs" aria-label="Vos comptes par type">
            <ul>
              {view.tabs.map((t) => (
                <li key={t.kind}>
                  <a href={t.href} aria-current={t.selected ? 'page' : undefined}>
                    {t.label}
                  </a>
                </li>
              ))}
            </ul>
          </nav>
          {/* The selected tab already says it visually; the heading gives the page its outline. */}
          <h2 class="visually-hidden">{view.selectedLabel}</h2>
          {view.accounts.map((a) => (
            <AccountCard key={a.id} account={a} />
          ))}
        </>
      )}
    </Layout>
  );
}

function NoAccount() {
  return (
    <section class="card">
      <h2>Aucun compte n’est rattaché à votre espace</h2>
      <p>
        Pour consulter votre solde, votre extrait de compte et vos documents, rattachez votre compte à votre espace avec
        l’identifiant et le mot de passe imprimés sur votre appel de fonds ou votre avis d’échéance.
      </p>
      <p>
        <a class="button" href="/comptes/ajouter">
          Ajouter un compte
        </a>
      </p>
    </section>
  );
}

function AccountCard({ account: a }: { account: AccountCardView }) {
  const headingId = `compte-${a.id}`;
  // Repeated link texts ("Détail", "Payer"…) name their account for screen-reader users.
  const which = <span class="visually-hidden"> – compte N° {a.reference}</span>;
  return (
    <section class="card account-card" aria-labelledby={headingId}>
      <div class="card-header">
        <h3 id={headingId}>{a.numberLabel}</h3>
      </div>
      <div class="account-lots">
        {a.lots.length > 0 ? (
          <ul>
            {a.lots.map((l) => (
              <li key={l}>{l}</li>
            ))}
          </ul>
        ) : null}
        {a.buildingName ? (
          <p>
            <strong>{a.buildingName}</strong>
            {a.buildingAddress ? (
              <>
                <br />
                {a.buildingAddress}
              </>
            ) : null}
          </p>
        ) : null}
      </div>
      <ul class="account-meta">
        <li>
          <a href={a.links.documents}>
            {a.privateDocuments}
            {which}
          </a>
        </li>
        {a.publicDocuments && a.links.buildingDocuments ? (
          <li>
            <a href={a.links.buildingDocuments}>
              {a.publicDocuments}
              {which}
            </a>
          </li>
        ) : null}
        {a.councilDocuments && a.links.councilDocuments ? (
          <li>
            <a href={a.links.councilDocuments}>
              {a.councilDocuments}
              {which}
            </a>
          </li>
        ) : null}
      </ul>
      <div class={`balance balance-${a.balance.tone}`}>
        <p class="balance-amount">{a.balance.amount}</p>
        <p class="balance-label">{a.balance.label}</p>
        <p class="actions">
          <a class="button" href={a.links.statement}>
            Détail{which}
          </a>
          <a class="button" href={a.links.pay}>
            Payer{which}
          </a>
        </p>
      </div>
      <ul class="quick-links">
        <li>
          <a class="button button-secondary" href={a.links.details}>
            Mes coordonnées{which}
          </a>
        </li>
        {a.links.council ? (
          <li>
            <a class="button button-secondary" href={a.links.council}>
              Membres du conseil syndical{which}
            </a>
          </li>
        ) : null}
        <li>
          <a class="button button-secondary" href={a.links.contact}>
            Contact gestionnaires{which}
          </a>
        </li>
      </ul>
    </section>
  );
}
