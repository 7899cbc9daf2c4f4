import { PASSWORD_RULE_TEXT } from '../../core/security/password-policy.ts';
import { CsrfField, ErrorSummary, Field, SelectField, type FormErrors } from '../../core/views/components.tsx';
import { Layout, type PageContext } from '../../core/views/layout.tsx';
import { civilityOptions } from '../accounts/coordinates.schemas.ts';
import { PROFILE_LABELS } from './profile.schemas.ts';

export interface ProfileDetails {
  civility: string | null;
  lastName: string | null;
  firstName: string | null;
  phone: string | null;
  address: string | null;
  postalCode: string | null;
  city: string | null;
}

export interface ProfileProps {
  ctx: PageContext;
  details: ProfileDetails;
  storedCivility: string | null;
  email: string;
  emailConfirmed: boolean;
  pendingEmail: string | null;
  newEmail?: string;
  errors?: FormErrors;
}

export function ProfilePage(p: ProfileProps) {
  const { ctx, details: d } = p;
  const e = p.errors ?? {};
  return (
    <Layout ctx={ctx} title="Mon profil">
      <h1>Mon profil</h1>
      <ErrorSummary errors={e} labels={PROFILE_LABELS} />

      <section class="card" aria-labelledby="infos-titre">
        <h2 id="infos-titre">Mes informations personnelles</h2>
        <p class="hint">
          Ces informations sont celles de votre espace client. Pour corriger l’adresse à laquelle l’agence vous écrit au
          sujet d’un compte, utilisez « Mes coordonnées » sur ce compte depuis l’accueil.
        </p>
        <form method="post" action="/profil" novalidate>
          <CsrfField token={ctx.csrfToken} />
          <SelectField
            name="civility"
            label="Civilité"
            options={civilityOptions(p.storedCivility)}
            value={d.civility}
            error={e.civility}
            required
            autocomplete="honorific-prefix"
          />
          <Field
            name="lastName"
            label="Nom"
            value={d.lastName}
            error={e.lastName}
            autocomplete="family-name"
            required
            maxLength={100}
          />
          <Field
            name="firstName"
            label="Prénom"
            value={d.firstName}
            error={e.firstName}
            autocomplete="given-name"
            required
            maxLength={100}
          />
          <Field
            name="phone"
            label="Téléphone"
            type="tel"
            value={d.phone}
            error={e.phone}
            hint="Par exemple 06 12 34 56 78 ou +33 6 12 34 56 78."
            autocomplete="tel"
            required
            maxLength={25}
          />
          <Field
            name="address"
            label="Adresse"
            value={d.address}
            error={e.address}
            autocomplete="street-address"
            required
            maxLength={200}
          />
          <Field
            name="postalCode"
            label="Code postal"
            value={d.postalCode}
            error={e.postalCode}
            hint="5 chiffres en France ; à l’étranger, le code postal du pays."
            autocomplete="postal-code"
            required
            maxLength={10}
          />
          <Field
            name="city"
            label="Ville"
            value={d.city}
            error={e.city}
            autocomplete="address-level2"
            required
            maxLength={100}
          />
          <div class="actions">
            <button type="submit" class="button">
              Enregistrer mes informations
            </button>
          </div>
        </form>
      </section>

      <section class="card" aria-labelledby="email-titre">
        <h2 id="email-titre">Adresse email</h2>
        <p>
          Email : <strong>{p.email}</strong>{' '}
          <span class="badge">{p.emailConfirmed ? 'confirmée' : 'non confirmée'}</span>
        </p>
        <p class="hint">C’est l’adresse avec laquelle vous vous connectez et à laquelle votre espace vous écrit.</p>
        {p.emailConfirmed ? null : (
          <form method="post" action="/profil/email/confirmation" class="inline-form">
            <CsrfField token={ctx.csrfToken} />
            <button type="submit" class="button button-secondary button-small">
              Renvoyer l’email de confirmation
            </button>
          </form>
        )}
        {p.pendingEmail ? (
          <p class="flash flash-info">
            Une demande de changement vers <strong>{p.pendingEmail}</strong> attend votre confirmation : suivez le lien
            envoyé à cette adresse.
          </p>
        ) : null}
        <h3>Changer d’adresse email</h3>
        <p>
          Un lien de confirmation sera envoyé à la nouvelle adresse : elle ne remplacera l’actuelle qu’une fois ce lien
          suivi.
        </p>
        <form method="post" action="/profil/email" novalidate>
          <CsrfField token={ctx.csrfToken} />
          <Field
            name="newEmail"
            label="Nouvelle adresse email"
            type="email"
            value={p.newEmail}
            error={e.newEmail}
            autocomplete="email"
            required
            spellcheck={false}
            autocapitalize="none"
            maxLength={254}
          />
          <Field
            name="emailPassword"
            label="Mot de passe actuel"
            type="password"
            error={e.emailPassword}
            autocomplete="current-password"
            required
          />
          <div class="actions">
            <button type="submit" class="button">
              Changer d’adresse email
            </button>
          </div>
        </form>
      </section>

      <section class="card" aria-labelledby="mdp-titre">
        <h2 id="mdp-titre">Mot de passe</h2>
        <p>Après le changement, vos autres sessions ouvertes (sur d’autres appareils ou navigateurs) seront fermées.</p>
        <form method="post" action="/profil/mot-de-passe" novalidate>
          <CsrfField token={ctx.csrfToken} />
          <Field
            name="currentPassword"
            label="Mot de passe actuel"
            type="password"
            error={e.currentPassword}
            autocomplete="current-password"
            required
          />
          <Field
            name="newPassword"
            label="Nouveau mot de passe"
            type="password"
            hint={PASSWORD_RULE_TEXT}
            error={e.newPassword}
            autocomplete="new-password"
            required
          />
          <Field
            name="confirmPassword"
            label="Confirmer le nouveau mot de passe"
            type="password"
            error={e.confirmPassword}
            autocomplete="new-password"
            required
          />
          <div class="actions">
            <button type="submit" class="button">
              Changer de mot de passe
            </button>
          </div>
        </form>
      </section>
    </Layout>
  );
}
