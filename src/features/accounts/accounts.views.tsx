import type { ComponentChildren } from 'preact';
import { BackLink, ErrorSummary, PostForm, type FormErrors } from '../../core/views/components.tsx';
import { ContactFields } from '../../core/views/contact-fields.tsx';
import { Layout, type PageContext } from '../../core/views/layout.tsx';
import type { AccountKind } from '../../db/schema.ts';
import { accountTitle, homeTabUrl, type ContactChangeView } from './accounts.presenter.ts';
import { COORDINATES_LABELS, civilityOptions, type CoordinatesInput } from './coordinates.schemas.ts';
import type { CouncilMember } from './council.service.ts';

/** What the account pages show to say which account they are about. */
export interface AccountSummary {
  id: number;
  kind: AccountKind;
  reference: string;
  buildingName: string | null;
}

/** The line under the h1 naming the account. */
function AccountLine({ account }: { account: AccountSummary }) {
  return (
    <p class="account-meta">
      {accountTitle(account)}
      {account.buildingName ? <> · {account.buildingName}</> : null}
    </p>
  );
}

/**
 * A page about one account: the way back to its home tab, the h1, then the line naming the
 * account; the browser tab names the account too.
 */
export function AccountLayout({
  ctx,
  account,
  title,
  children,
}: {
  ctx: PageContext;
  account: AccountSummary;
  title: string;
  children: ComponentChildren;
}) {
  return (
    <Layout ctx={ctx} title={`${title} – ${accountTitle(account)}`}>
      <BackLink href={homeTabUrl(account.kind)} />
      <h1>{title}</h1>
      <AccountLine account={account} />
      {children}
    </Layout>
  );
}

export type CoordinatesValues = Partial<Record<keyof CoordinatesInput, string | null>>;

export function CoordinatesPage({
  ctx,
  account,
  values,
  storedCivility,
  errors,
  history,
  pending = [],
}: {
  ctx: PageContext;
  account: AccountSummary;
  values: CoordinatesValues;
  storedCivility: string | null;
  errors?: FormErrors;
  history: ContactChangeView[];
  /** Labels of the fields whose correction the agency has not taken in yet. */
  pending?: string[];
}) {
  const e = errors ?? {};
  return (
    <AccountLayout ctx={ctx} account={account} title="Mes coordonnées">
      <ErrorSummary errors={e} labels={COORDINATES_LABELS} />
      <section class="card" aria-labelledby="coordonnees-titre">
        <h2 id="coordonnees-titre">Coordonnées connues de l’agence</h2>
        <p>
          L’agence utilise ces coordonnées pour ce compte : courriers, appels de fonds, relances. Si elles ne sont plus
          exactes, corrigez-les ici : votre gestionnaire reçoit aussitôt vos corrections par email.
        </p>
        <PostForm
          action={`/comptes/${account.id}/coordonnees`}
          csrfToken={ctx.csrfToken}
          submit="Enregistrer mes coordonnées"
        >
          <ContactFields
            values={values}
            errors={e}
            optional={['civility', 'firstName', 'phone']}
            civilities={civilityOptions(storedCivility)}
            emailHint="L’adresse à laquelle l’agence vous écrit au sujet de ce compte."
          />
        </PostForm>
      </section>
      <section aria-labelledby="historique-titre">
        <h2 id="historique-titre">Historique des modifications</h2>
        {pending.length > 0 ? (
          <p>
            Pas encore reporté par l’agence dans son logiciel : {pending.join(', ')}. D’ici là, vos corrections sont
            conservées, même quand l’agence met à jour ses fichiers.
          </p>
        ) : null}
        {history.length === 0 ? (
          <p>Aucune modification n’a encore été faite depuis l’espace client.</p>
        ) : (
          <div class="table-wrapper">
            <table class="data-table history">
              <caption>Modifications des coordonnées de ce compte, de la plus récente à la plus ancienne</caption>
              <thead>
                <tr>
                  <th scope="col">Date</th>
                  <th scope="col">Par</th>
                  <th scope="col">Modifications</th>
                </tr>
              </thead>
              <tbody>
                {history.map((h) => (
                  <tr key={h.id}>
                    <td class="history-when">{h.when}</td>
                    <td class="history-who">{h.who}</td>
                    <td>
                      <ul class="history-changes">
                        {h.changes.map((c) => (
                          <li key={c.label}>
                            {c.label} : <Value text={c.before} nowrap={c.nowrap} /> →{' '}
                            <Value text={c.after} nowrap={c.nowrap} />
                          </li>
                        ))}
                      </ul>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </AccountLayout>
  );
}

/** A value of the history; a phone number or postal code is kept on one line. */
function Value({ text, nowrap }: { text: string; nowrap: boolean }) {
  return nowrap ? <span class="nowrap">{text}</span> : <>{text}</>;
}

export function CouncilPage({
  ctx,
  account,
  members,
}: {
  ctx: PageContext;
  account: AccountSummary;
  members: CouncilMember[];
}) {
  const building = account.buildingName ?? 'votre copropriété';
  return (
    <AccountLayout ctx={ctx} account={account} title="Membres du conseil syndical">
      <p>
        Le conseil syndical, élu par l’assemblée générale parmi les copropriétaires, assiste le syndic et contrôle sa
        gestion.
      </p>
      {members.length === 0 ? (
        <p>Aucun membre du conseil syndical n’est enregistré pour cette copropriété.</p>
      ) : (
        <div class="table-wrapper">
          <table class="data-table">
            <caption>Conseil syndical de {building}</caption>
            <thead>
              <tr>
                <th scope="col">Nom</th>
                <th scope="col">Rôle</th>
              </tr>
            </thead>
            <tbody>
              {members.map((m) => (
                <tr key={m.name}>
                  <th scope="row">{m.name}</th>
                  <td>{m.roleLabel}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </AccountLayout>
  );
}
