import { EmailField, ErrorSummary, Field, PostForm, type FormErrors } from '../../core/views/components.tsx';
import type { ConfirmLink } from './auth.service.ts';
import { Layout, type PageContext } from '../../core/views/layout.tsx';
import { NewPasswordFields } from '../../core/views/password-fields.tsx';

export function LoginPage({
  ctx,
  email,
  errors,
  returnTo,
}: {
  ctx: PageContext;
  email?: string;
  errors?: FormErrors;
  /** The page asked for before signing in, opened after. */
  returnTo?: string | null;
}) {
  return (
    <Layout ctx={ctx} title="Connexion à votre espace client" narrow>
      <h1>Connexion à votre espace client</h1>
      <ErrorSummary errors={errors ?? {}} labels={{ email: 'Email', password: 'Mot de passe' }} />
      <PostForm
        action="/connexion"
        csrfToken={ctx.csrfToken}
        submit="Se connecter"
        secondary={<a href="/mot-de-passe-oublie">Mot de passe oublié ?</a>}
      >
        {returnTo ? <input type="hidden" name="retour" value={returnTo} /> : null}
        <EmailField name="email" label="Email" value={email} error={errors?.email} autocomplete="username" required />
        <Field
          name="password"
          label="Mot de passe"
          type="password"
          error={errors?.password}
          autocomplete="current-password"
          required
        />
      </PostForm>
      <section class="card first-time" aria-labelledby="premiere-connexion">
        <h2 id="premiere-connexion">Première connexion ?</h2>
        <p>
          Munissez-vous de votre appel de fonds ou de votre avis d’échéance : il porte votre{' '}
          <strong>Identifiant</strong> et votre <strong>Mot de passe</strong> de première connexion.
        </p>
        <p>
          <a href="/creer-mon-espace" class="button button-secondary">
            Créez votre espace
          </a>
        </p>
      </section>
    </Layout>
  );
}

export function ForgotPage({
  ctx,
  email,
  errors,
  sent,
}: {
  ctx: PageContext;
  email?: string;
  errors?: FormErrors;
  sent?: boolean;
}) {
  return (
    <Layout ctx={ctx} title="Mot de passe oublié" narrow>
      <h1>Mot de passe oublié</h1>
      {sent ? (
        <div class="flash flash-success" role="status">
          <p>
            Si l’adresse <strong>{email}</strong> correspond à un espace client, un email vient de lui être envoyé avec
            un lien pour choisir un nouveau mot de passe. Ce lien est valable une heure.
          </p>
          <p>Pensez à regarder dans vos courriers indésirables.</p>
        </div>
      ) : (
        <>
          <p>
            Indiquez l’adresse email de votre espace client : nous vous enverrons un lien pour choisir un nouveau mot de
            passe.
          </p>
          <ErrorSummary errors={errors ?? {}} labels={{ email: 'Email' }} />
          <PostForm action="/mot-de-passe-oublie" csrfToken={ctx.csrfToken} submit="Valider">
            <EmailField name="email" label="Email" value={email} error={errors?.email} required />
          </PostForm>
        </>
      )}
      <p>
        <a href="/">Revenir à la connexion</a>
      </p>
    </Layout>
  );
}

export function ResetPage({
  ctx,
  token,
  errors,
  invalid,
}: {
  ctx: PageContext;
  token: string;
  errors?: FormErrors;
  invalid?: boolean;
}) {
  return (
    <Layout ctx={ctx} title="Choisir un nouveau mot de passe" narrow>
      <h1>Choisir un nouveau mot de passe</h1>
      {invalid ? (
        <>
          <p class="flash flash-error" role="alert">
            Ce lien n’est plus valable : il a déjà servi ou a expiré (il est valable une heure).
          </p>
          <p>
            <a href="/mot-de-passe-oublie" class="button">
              Demander un nouveau lien
            </a>
          </p>
        </>
      ) : (
        <>
          <ErrorSummary
            errors={errors ?? {}}
            labels={{ password: 'Nouveau mot de passe', confirm: 'Confirmer le mot de passe' }}
          />
          <PostForm action="/nouveau-mot-de-passe" csrfToken={ctx.csrfToken} submit="Valider">
            <input type="hidden" name="token" value={token} />
            <NewPasswordFields errors={errors} />
          </PostForm>
        </>
      )}
    </Layout>
  );
}

export function EmailConfirmedPage({ ctx, ok }: { ctx: PageContext; ok: boolean }) {
  return (
    <Layout ctx={ctx} title={ok ? 'Adresse email confirmée' : 'Lien non valable'} narrow>
      <h1>{ok ? 'Adresse email confirmée' : 'Lien non valable'}</h1>
      <p>
        {ok
          ? 'Merci : votre adresse email est confirmée.'
          : 'Ce lien de confirmation n’est plus valable : il a déjà servi ou a expiré. Vous pouvez en demander un nouveau depuis votre profil.'}
      </p>
      <p>
        <a href={ctx.user ? '/accueil' : '/'} class="button">
          {ctx.user ? 'Aller à l’accueil' : 'Se connecter'}
        </a>
      </p>
    </Layout>
  );
}

/** The page a confirmation link opens: nothing changes until its button is pressed. */
export function ConfirmEmailPage({
  ctx,
  token,
  link,
  here,
}: {
  ctx: PageContext;
  token: string;
  link: Exclude<ConfirmLink, { kind: 'invalid' }>;
  here: string;
}) {
  const title = 'Confirmer votre adresse email';
  if (link.kind === 'change' && link.needsSignIn) {
    return (
      <Layout ctx={ctx} title={title} narrow>
        <h1>{title}</h1>
        <p>
          Pour utiliser l’adresse <strong>{link.newEmail}</strong>, connectez-vous d’abord à votre espace avec votre
          adresse et votre mot de passe actuels : la confirmation se fait ensuite sur cette page.
        </p>
        <p>
          <a href={`/?retour=${encodeURIComponent(here)}`} class="button">
            Se connecter pour confirmer
          </a>
        </p>
      </Layout>
    );
  }
  if (link.kind === 'change' && link.otherPerson) {
    return (
      <Layout ctx={ctx} title="Lien non valable" narrow>
        <h1>Lien non valable</h1>
        <p>
          Ce lien concerne un autre espace client que celui auquel vous êtes connecté. Déconnectez-vous, puis
          connectez-vous à l’espace concerné pour confirmer.
        </p>
      </Layout>
    );
  }
  return (
    <Layout ctx={ctx} title={title} narrow>
      <h1>{title}</h1>
      <p>
        {link.kind === 'change' ? (
          <>
            Confirmez que vous souhaitez désormais vous connecter avec l’adresse <strong>{link.newEmail}</strong>.
          </>
        ) : (
          'Confirmez que cette adresse email est bien la vôtre.'
        )}
      </p>
      <PostForm action="/confirmer-email" csrfToken={ctx.csrfToken} submit="Confirmer mon adresse email">
        <input type="hidden" name="token" value={token} />
      </PostForm>
    </Layout>
  );
}
