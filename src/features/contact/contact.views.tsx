import { ErrorSummary, Field, PostForm, TextArea, telHref, type FormErrors } from '../../core/views/components.tsx';
import { Layout, type PageContext } from '../../core/views/layout.tsx';
import type { Agency } from '../../core/agency/agency.repository.ts';
import { AccountLayout, type AccountSummary } from '../accounts/accounts.views.tsx';
import type { DirectoryGroup } from './contact.service.ts';
import { BODY_MAX, MESSAGE_LABELS, SUBJECT_MAX } from './contact.schemas.ts';

function PersonContact({ email, phone }: { email: string | null; phone: string | null }) {
  if (!email && !phone) return null;
  return (
    <dl class="definition-list">
      {email ? (
        <>
          <dt>Email</dt>
          <dd>
            <a href={`mailto:${email}`}>{email}</a>
          </dd>
        </>
      ) : null}
      {phone ? (
        <>
          <dt>Téléphone</dt>
          <dd>
            <a href={telHref(phone)}>{phone}</a>
          </dd>
        </>
      ) : null}
    </dl>
  );
}

export interface ManagerView {
  name: string;
  email: string;
  phone: string | null;
}

export function AccountContactPage({
  ctx,
  account,
  manager,
  agency,
  userEmail,
  values,
  errors,
}: {
  ctx: PageContext;
  account: AccountSummary;
  manager: ManagerView | null;
  agency: Agency;
  userEmail: string;
  values?: { subject?: string; body?: string };
  errors?: FormErrors;
}) {
  const e = errors ?? {};
  return (
    <AccountLayout ctx={ctx} account={account} title="Contacter votre gestionnaire">
      <ErrorSummary errors={e} labels={MESSAGE_LABELS} />
      <section class="card" aria-labelledby="gestionnaire-titre">
        <h2 id="gestionnaire-titre">Votre gestionnaire</h2>
        {manager ? (
          <>
            <p>
              <strong>{manager.name}</strong>
            </p>
            <PersonContact email={manager.email} phone={manager.phone} />
          </>
        ) : (
          <>
            <p>
              Aucun gestionnaire n’est attribué à ce compte pour le moment : votre message sera transmis à l’agence.
            </p>
            <PersonContact email={agency.email} phone={agency.phone} />
          </>
        )}
      </section>
      <section aria-labelledby="message-titre">
        <h2 id="message-titre">Écrire un message</h2>
        <p>
          Votre message est transmis avec la référence de ce compte. La réponse vous parviendra à l’adresse{' '}
          <strong>{userEmail}</strong>, qui recevra aussi une copie de votre message.
        </p>
        <PostForm action={`/comptes/${account.id}/contact`} csrfToken={ctx.csrfToken} submit="Envoyer le message">
          <Field
            name="subject"
            label="Objet"
            value={values?.subject}
            error={e.subject}
            required
            maxLength={SUBJECT_MAX}
          />
          <TextArea
            name="body"
            label="Message"
            value={values?.body}
            error={e.body}
            required
            maxLength={BODY_MAX}
            hint={`5\u202f000 caractères au maximum.`}
          />
        </PostForm>
      </section>
    </AccountLayout>
  );
}

export function ContactPage({ ctx, agency, groups }: { ctx: PageContext; agency: Agency; groups: DirectoryGroup[] }) {
  const hasAgencyDetails = agency.address || agency.phone || agency.email || agency.website;
  return (
    <Layout ctx={ctx} title="Contact">
      <h1>Contact</h1>
      <section class="card" aria-labelledby="agence-titre">
        <h2 id="agence-titre">L’agence</h2>
        {agency.configured ? (
          <p>
            <strong>{agency.name}</strong>
            {agency.tagline ? <span class="muted"> – {agency.tagline}</span> : null}
          </p>
        ) : null}
        {hasAgencyDetails ? (
          <dl class="definition-list">
            {agency.address ? (
              <>
                <dt>Adresse</dt>
                <dd>{agency.address}</dd>
              </>
            ) : null}
            {agency.phone ? (
              <>
                <dt>Téléphone</dt>
                <dd>
                  <a href={telHref(agency.phone)}>{agency.phone}</a>
                </dd>
              </>
            ) : null}
            {agency.email ? (
              <>
                <dt>Email</dt>
                <dd>
                  <a href={`mailto:${agency.email}`}>{agency.email}</a>
                </dd>
              </>
            ) : null}
            {agency.website ? (
              <>
                <dt>Site internet</dt>
                <dd>
                  <a href={agency.website}>{agency.website.replace(/^https?:\/\//, '')}</a>
                </dd>
              </>
            ) : null}
          </dl>
        ) : (
          <p>Les coordonnées de l’agence ne sont pas encore renseignées.</p>
        )}
      </section>
      <section aria-labelledby="gestionnaires-titre">
        <h2 id="gestionnaires-titre">Vos gestionnaires</h2>
        {groups.length === 0 ? (
          <p>
            Aucun compte n’est encore rattaché à votre espace. <a href="/comptes/ajouter">Ajouter un compte</a>
          </p>
        ) : (
          groups.map((g, i) => (
            <article class="card" key={g.manager?.email ?? `agence-${i}`} aria-labelledby={`gestionnaire-${i}`}>
              <h3 id={`gestionnaire-${i}`}>{g.manager ? g.manager.name : 'L’agence (aucun gestionnaire attribué)'}</h3>
              {g.manager ? <PersonContact email={g.manager.email} phone={g.manager.phone} /> : null}
              <p>{g.accounts.length > 1 ? 'Comptes suivis :' : 'Compte suivi :'}</p>
              <ul>
                {g.accounts.map((a) => (
                  <li key={a.id}>
                    {a.title}
                    {a.buildingName ? <> · {a.buildingName}</> : null}
                    {' – '}
                    <a href={`/comptes/${a.id}/contact`}>Écrire au sujet du compte N° {a.reference}</a>
                  </li>
                ))}
              </ul>
            </article>
          ))
        )}
      </section>
    </Layout>
  );
}
