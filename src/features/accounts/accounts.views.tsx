import { CsrfField, ErrorSummary, Field, SelectField, type FormErrors } from '../../core/views/components.tsx';
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

/** The line under the h1 naming the account, and the way back to its home tab. */
export function AccountLine({ account }: { account: AccountSummary }) {
  return (
    <p class="account-meta">
      {accountTitle(account)}
      {account.buildingName ? <> · {account.buildingName}</> : null}
    </p>
  );
}

export function BackHome({ kind }: { kind: AccountKind }) {
  return (
    <p class="print-hide">
      <a href={homeTabUrl(kind)}>Retour à l’accueil</a>
    </p>
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
}: {
  ctx: PageContext;
  account: AccountSummary;
  values: CoordinatesValues;
  storedCivility: string | null;
  errors?: FormErrors;
  history: ContactChangeView[];
}) {
  const e = errors ?? {};
  return (
    <Layout ctx={ctx} title={`Mes coordonnées – ${accountTitle(account)}`}>
      <BackHome kind={account.kind} />
      <h1>Mes coordonnées</h1>
      <AccountLine account={account} />
      <ErrorSummary errors={e} labels={COORDINATES_LABELS} />
      <section class="card" aria-labelledby="coordonnees-titre">
        <h2 id="coordonnees-titre">Coordonnées connues de l’agence</h2>
        <p>
          L’agence utilise ces coordonnées pour ce compte : courriers, appels de fonds, relances. Si elles ne sont plus
          exactes, corrigez-les ici : votre gestionnaire reçoit aussitôt vos corrections par email.
        </p>
        <form method="post" action={`/comptes/${account.id}/coordonnees`} novalidate>
          <CsrfField token={ctx.csrfToken} />
          <SelectField
            name="civility"
            label="Civilité"
            options={civilityOptions(storedCivility)}
            value={values.civility}
            error={e.civility}
            autocomplete="honorific-prefix"
          />
          <Field
            name="lastName"
            label="Nom"
            value={values.lastName}
            error={e.lastName}
            autocomplete="family-name"
            required
            maxLength={100}
          />
          <Field
            name="firstName"
            label="Prénom"
            value={values.firstName}
            error={e.firstName}
            autocomplete="given-name"
            maxLength={100}
          />
          <Field
            name="email"
            label="Email"
            type="email"
            value={values.email}
            error={e.email}
            hint="L’adresse à laquelle l’agence vous écrit au sujet de ce compte."
            autocomplete="email"
            required
            spellcheck={false}
            autocapitalize="none"
            maxLength={254}
          />
          <Field
            name="phone"
            label="Téléphone"
            type="tel"
            value={values.phone}
            error={e.phone}
            hint="Par exemple 06 12 34 56 78 ou +33 6 12 34 56 78."
            autocomplete="tel"
            maxLength={25}
          />
          <Field
            name="address"
            label="Adresse"
            value={values.address}
            error={e.address}
            autocomplete="street-address"
            required
            maxLength={200}
          />
          <Field
            name="postalCode"
            label="Code postal"
            value={values.postalCode}
            error={e.postalCode}
            hint="5 chiffres en France ; à l’étranger, le code postal du pays."
            autocomplete="postal-code"
            required
            maxLength={10}
          />
          <Field
            name="city"
            label="Ville"
            value={values.city}
            error={e.city}
            autocomplete="address-level2"
            required
            maxLength={100}
          />
          <div class="actions">
            <button type="submit" class="button">
              Enregistrer mes coordonnées
            </button>
          </div>
        </form>
      </section>
      <section aria-labelledby="historique-titre">
        <h2 id="historique-titre">Historique des modifications</h2>
        {history.length === 0 ? (
          <p>Aucune modification n’a encore été faite depuis l’espace client.</p>
        ) : (
          <div class="table-wrapper">
            <table class="data-table">
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
                    <td>{h.when}</td>
                    <td>{h.who}</td>
                    <td>
                      <ul>
                        {h.changes.map((c) => (
                          <li key={c.label}>
                            {c.label} : {c.before} → {c.after}
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
    </Layout>
  );
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
    <Layout ctx={ctx} title={`Membres du conseil syndical – ${accountTitle(account)}`}>
      <BackHome kind={account.kind} />
      <h1>Membres du conseil syndical</h1>
      <AccountLine account={account} />
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
    </Layout>
  );
}
