import { EmailField, ErrorSummary, Field, PostForm, type FormErrors } from '../../core/views/components.tsx';
import { Layout, type PageContext } from '../../core/views/layout.tsx';
import { NewPasswordFields } from '../../core/views/password-fields.tsx';

export function LoginPage({ ctx, email, errors }: { ctx: PageContext; email?: string; errors?: FormErrors }) {
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
