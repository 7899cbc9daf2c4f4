import { renderToString } from 'preact-render-to-string';
import type { Agency } from '../../core/agency/agency.repository.ts';
import { frenchSpacing, installFrenchTypography } from '../../core/views/typography.ts';
import type { MailMessage } from './mailer.ts';

installFrenchTypography();

/**
 * Every mail Palier sends has the same shape: a greeting, paragraphs, an optional
 * button, and the agency's signature. One template keeps them consistent in HTML and text.
 */
export interface MailContent {
  to: string;
  subject: string;
  greeting: string;
  paragraphs: string[];
  action?: { label: string; url: string };
  /** Said after the button, e.g. how long the link is valid. */
  after?: string[];
  replyTo?: string;
}

function EmailHtml({ agency, c }: { agency: Agency; c: MailContent }) {
  return (
    <html lang="fr">
      <head>
        <meta charset="utf-8" />
        <title>{c.subject}</title>
      </head>
      <body style="font-family: Arial, Helvetica, sans-serif; color: #1d1d1f; line-height: 1.5; max-width: 600px; margin: 0 auto; padding: 16px;">
        <p style="font-size: 18px; font-weight: bold; color: #123e6b;">{agency.name}</p>
        <p>{c.greeting}</p>
        {c.paragraphs.map((p, i) => (
          <p key={i}>{p}</p>
        ))}
        {c.action ? (
          <p>
            <a
              href={c.action.url}
              style="display: inline-block; background: #123e6b; color: #ffffff; padding: 12px 20px; text-decoration: none; border-radius: 4px;"
            >
              {c.action.label}
            </a>
          </p>
        ) : null}
        {c.action ? (
          <p style="font-size: 14px;">
            Si le bouton ne fonctionne pas, copiez ce lien dans votre navigateur : <br />
            {c.action.url}
          </p>
        ) : null}
        {(c.after ?? []).map((p, i) => (
          <p key={`a${i}`}>{p}</p>
        ))}
        <p>
          Cordialement,
          <br />
          {agency.name}
        </p>
        <p style="font-size: 12px; color: #555555;">
          {[agency.address, agency.phone, agency.email].filter(Boolean).join(' · ')}
        </p>
      </body>
    </html>
  );
}

export function renderMail(agency: Agency, c: MailContent): MailMessage {
  const text = [
    c.greeting,
    '',
    ...c.paragraphs.flatMap((p) => [p, '']),
    ...(c.action ? [`${c.action.label} : ${c.action.url}`, ''] : []),
    ...(c.after ?? []).flatMap((p) => [p, '']),
    'Cordialement,',
    agency.name,
    [agency.address, agency.phone, agency.email].filter(Boolean).join(' · '),
  ]
    .map(frenchSpacing)
    .join('\n');
  return {
    to: c.to,
    subject: frenchSpacing(`${c.subject} – ${agency.name}`),
    text,
    html: `<!doctype html>${renderToString(<EmailHtml agency={agency} c={c} />)}`,
    replyTo: c.replyTo,
    fromName: agency.name,
  };
}

export function greeting(civility: string | null | undefined, firstName?: string | null, lastName?: string | null) {
  const name = [civility, firstName, lastName].filter(Boolean).join(' ');
  return name ? `Bonjour ${name},` : 'Bonjour,';
}

/**
 * The greeting of a mail to a person's address: by name once the address is confirmed;
 * before that, the name is text its requester typed, which must not reach an address
 * nobody has proved to own.
 */
export function greetingFor(person: {
  civility: string | null;
  first_name: string | null;
  last_name: string | null;
  email_verified_at: string | null;
}): string {
  return person.email_verified_at ? greeting(person.civility, person.first_name, person.last_name) : 'Bonjour,';
}
