import { CsrfField, EmailField, ErrorSummary, Field, PostForm, type FormErrors } from '../../core/views/components.tsx';
import { ContactFields } from '../../core/views/contact-fields.tsx';
import { DocumentNoticeSection } from '../documents/documents.views.tsx';
import { Layout, type PageContext } from '../../core/views/layout.tsx';
import { NewPasswordFields } from '../../core/views/password-fields.tsx';
import { civilityOptions } from '../accounts/coordinates.schemas.ts';
import { DownloadLinks } from '../privacy/privacy.views.tsx';
import { PROFILE_LABELS } from './profile.schemas.ts';

export interface ProfileDetails {
  civility: string | null;
  lastName: string | null;
  firstName: string | null;
  phone: string | null;
  address: string | null;
  postalCode: string | null;
  city: string | null;
  country: string | null;
}

/** Both changes below are confirmed with the current password. */
function CurrentPasswordField({ name, error }: { name: string; error?: string }) {
  return (
    <Field
      name={name}
      label="Mot de passe actuel"
      type="password"
      error={error}
      autocomplete="current-password"
      required
    />
  );
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
  /** « Recevoir un email quand un nouveau document est publié ». */
  documentNotice?: boolean;
}

export function ProfilePage(p: ProfileProps) {
  const { ctx } = p;
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
        <PostForm action="/profil" csrfToken={ctx.csrfToken} submit="Enregistrer mes informations">
          <ContactFields values={p.details} errors={e} civilities={civilityOptions(p.storedCivility)} />
        </PostForm>
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
          <div class="flash flash-info">
            <p>
              Une demande de changement vers <strong>{p.pendingEmail}</strong> attend votre confirmation : suivez le
              lien envoyé à cette adresse, en étant connecté à votre espace. Si vous n’avez pas fait cette demande,
              annulez-la.
            </p>
            <PostForm action="/profil/email/annulation" csrfToken={ctx.csrfToken} submit="Annuler ce changement" />
          </div>
        ) : null}
        <h3>Changer d’adresse email</h3>
        <p>
          Un lien de confirmation sera envoyé à la nouvelle adresse : elle ne remplacera l’actuelle qu’une fois ce lien
          suivi.
        </p>
        <PostForm action="/profil/email" csrfToken={ctx.csrfToken} submit="Changer d’adresse email">
          <EmailField
            name="newEmail"
            label="Nouvelle adresse email"
            value={p.newEmail}
            error={e.newEmail}
            required
            maxLength={254}
          />
          <CurrentPasswordField name="emailPassword" error={e.emailPassword} />
        </PostForm>
      </section>

      <section class="card" aria-labelledby="mdp-titre">
        <h2 id="mdp-titre">Mot de passe</h2>
        <p>Après le changement, vos autres sessions ouvertes (sur d’autres appareils ou navigateurs) seront fermées.</p>
        <PostForm action="/profil/mot-de-passe" csrfToken={ctx.csrfToken} submit="Changer de mot de passe">
          <CurrentPasswordField name="currentPassword" error={e.currentPassword} />
          <NewPasswordFields
            errors={e}
            names={{ password: 'newPassword', confirm: 'confirmPassword' }}
            labels={{ password: 'Nouveau mot de passe', confirm: 'Confirmer le nouveau mot de passe' }}
          />
        </PostForm>
      </section>

      <DocumentNoticeSection csrfToken={ctx.csrfToken} on={p.documentNotice === true} />
      <section class="card" aria-labelledby="donnees-titre">
        <h2 id="donnees-titre">Mes données</h2>
        <p>Téléchargez tout ce que votre espace client contient sur vous : profil, comptes, demandes, connexions.</p>
        <DownloadLinks />
        <h3>Fermer mon espace client</h3>
        <p>Votre identifiant et vos informations personnelles sont effacés ; vos comptes restent tenus par l’agence.</p>
        <p>
          <a href="/profil/fermeture">Fermer mon espace client</a>
        </p>
      </section>
    </Layout>
  );
}
