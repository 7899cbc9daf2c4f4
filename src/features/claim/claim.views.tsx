import { ContactFields } from '../../core/views/contact-fields.tsx';
import { ErrorSummary, Field, PostForm, type FormErrors } from '../../core/views/components.tsx';
import { Layout, type PageContext } from '../../core/views/layout.tsx';
import { NewPasswordFields } from '../../core/views/password-fields.tsx';
import { CODE_LABELS, PROFILE_LABELS } from './claim.schemas.ts';

const REFERENCE_HINT =
  'Votre identifiant figure en haut de votre appel de fonds ou de votre avis d’échéance, à la ligne « Identifiant ».';
const CODE_HINT =
  'Le mot de passe de première connexion est imprimé sur le même document, juste sous l’identifiant. Majuscules, espaces et tirets n’ont pas d’importance.';

/** Identifiant + Mot de passe from the paper letter: shared by the claim and "Ajouter un compte". */
function CodeFields({ reference, errors }: { reference?: string; errors?: FormErrors }) {
  return (
    <>
      <Field
        name="reference"
        label="Identifiant"
        value={reference}
        hint={REFERENCE_HINT}
        error={errors?.reference}
        autocomplete="off"
        required
        spellcheck={false}
        autocapitalize="none"
      />
      <Field
        name="code"
        label="Mot de passe"
        hint={CODE_HINT}
        error={errors?.code}
        autocomplete="off"
        required
        spellcheck={false}
        autocapitalize="none"
      />
    </>
  );
}

export function ClaimStep1Page({
  ctx,
  reference,
  errors,
}: {
  ctx: PageContext;
  reference?: string;
  errors?: FormErrors;
}) {
  return (
    <Layout ctx={ctx} title="Création de mon espace (1/2)" narrow>
      <h1>Création de mon espace (1/2)</h1>
      <p>
        Munissez-vous de votre dernier appel de fonds ou avis d’échéance : il porte l’<strong>Identifiant</strong> et le{' '}
        <strong>Mot de passe</strong> qui permettent de créer votre espace. Ce mot de passe ne sert qu’une fois ; vous
        choisirez ensuite votre mot de passe personnel.
      </p>
      <ErrorSummary errors={errors ?? {}} labels={CODE_LABELS} />
      <PostForm
        action="/creer-mon-espace"
        csrfToken={ctx.csrfToken}
        submit="Étape suivante"
        secondary={<a href="/">J’ai déjà un espace : se connecter</a>}
      >
        <CodeFields reference={reference} errors={errors} />
      </PostForm>
    </Layout>
  );
}

export type ProfileValues = Partial<Record<keyof typeof PROFILE_LABELS, string>>;

const PASSWORD_LABELS = { password: 'Mot de passe', confirm: 'Confirmer le mot de passe' };

export function ClaimStep2Page({
  ctx,
  ticket,
  reference,
  values,
  errors,
  emailTaken,
}: {
  ctx: PageContext;
  ticket: string;
  reference: string;
  values: ProfileValues;
  errors?: FormErrors;
  emailTaken?: boolean;
}) {
  const fieldErrors: FormErrors = {
    ...errors,
    email: errors?.email ?? (emailTaken ? 'Cette adresse email a déjà un espace client.' : undefined),
  };
  return (
    <Layout ctx={ctx} title="Création de mon espace (2/2)" narrow>
      <h1>Création de mon espace (2/2)</h1>
      <p>
        Identifiant <strong>{reference}</strong> reconnu. Vérifiez les informations que nous connaissons, complétez-les
        et choisissez votre mot de passe personnel. Tous les champs doivent être renseignés.
      </p>
      {emailTaken ? (
        <div class="error-summary" role="alert" tabIndex={-1}>
          <h2>Cette adresse email a déjà un espace client</h2>
          <p>
            Si c’est la vôtre, vous n’avez pas besoin d’un second espace : <a href="/">connectez-vous</a> avec « Se
            connecter », puis choisissez « Ajouter un compte » et saisissez l’identifiant et le mot de passe de votre
            appel de fonds. Le compte s’ajoutera à votre espace. Sinon,{' '}
            <a href="#email">indiquez une autre adresse email</a>.
          </p>
        </div>
      ) : (
        <ErrorSummary errors={errors ?? {}} labels={PROFILE_LABELS} />
      )}
      <PostForm action="/creer-mon-espace/etape-2" csrfToken={ctx.csrfToken} submit="Valider">
        <input type="hidden" name="ticket" value={ticket} />
        <ContactFields
          values={values}
          errors={fieldErrors}
          emailHint="Vous vous connecterez avec cette adresse ; un email vous demandera de la confirmer."
          afterEmail={<NewPasswordFields errors={errors} labels={PASSWORD_LABELS} />}
        />
      </PostForm>
    </Layout>
  );
}

/** Step 2 reached with an expired, unknown or already used ticket. */
export function TicketInvalidPage({ ctx, afterSubmit }: { ctx: PageContext; afterSubmit?: boolean }) {
  return (
    <Layout ctx={ctx} title="Création de mon espace : étape expirée" narrow>
      <h1>Création de mon espace : étape expirée</h1>
      <p>
        Cette page n’est plus valable : la seconde étape doit être remplie dans les 30 minutes qui suivent la première,
        et une seule fois.
      </p>
      {afterSubmit ? (
        <p>
          Si vous venez de valider ce formulaire, votre espace est peut-être déjà créé : essayez de vous connecter avec
          votre adresse email et le mot de passe que vous avez choisi.
        </p>
      ) : null}
      <div class="actions">
        <a href="/creer-mon-espace" class="button">
          Recommencer la première étape
        </a>
        <a href="/">Se connecter</a>
      </div>
    </Layout>
  );
}

/** A logged-in person adds accounts to the space they have, rather than creating a second one. */
export function AlreadyLoggedInPage({ ctx }: { ctx: PageContext }) {
  return (
    <Layout ctx={ctx} title="Vous avez déjà un espace" narrow>
      <h1>Vous avez déjà un espace</h1>
      <p>
        Vous êtes connecté à votre espace client. Pour y ajouter un autre compte (par exemple un compte locataire à côté
        de votre compte copropriétaire, ou un second bien), utilisez « Ajouter un compte » avec l’identifiant et le mot
        de passe imprimés sur l’appel de fonds de ce compte.
      </p>
      <div class="actions">
        <a href="/comptes/ajouter" class="button">
          Ajouter un compte
        </a>
        <a href="/accueil">Revenir à l’accueil</a>
      </div>
    </Layout>
  );
}

export function AttachPage({
  ctx,
  reference,
  errors,
  alreadyHeld,
}: {
  ctx: PageContext;
  reference?: string;
  errors?: FormErrors;
  /** "Copropriétaire N° …" when the person already holds the account typed. */
  alreadyHeld?: string;
}) {
  return (
    <Layout ctx={ctx} title="Ajouter un compte" narrow>
      <h1>Ajouter un compte</h1>
      <p>
        Vous pouvez suivre plusieurs comptes dans votre espace : un compte locataire à côté d’un compte copropriétaire,
        un second bien… Saisissez l’<strong>Identifiant</strong> et le <strong>Mot de passe</strong> imprimés sur
        l’appel de fonds ou l’avis d’échéance du compte à ajouter. Les autres personnes qui suivent déjà ce compte en
        seront informées par email.
      </p>
      {alreadyHeld ? (
        <div class="flash flash-info" role="status">
          Le compte {alreadyHeld} fait déjà partie de votre espace : vous le retrouvez sur votre{' '}
          <a href="/accueil">accueil</a>.
        </div>
      ) : null}
      <ErrorSummary errors={errors ?? {}} labels={CODE_LABELS} />
      <PostForm
        action="/comptes/ajouter"
        csrfToken={ctx.csrfToken}
        submit="Ajouter ce compte"
        secondary={<a href="/accueil">Annuler</a>}
      >
        <CodeFields reference={reference} errors={errors} />
      </PostForm>
    </Layout>
  );
}
