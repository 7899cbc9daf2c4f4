import type { LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import type { TestApp } from '../helpers/app.ts';
import { TestClient, csrfTokenOf } from '../helpers/client.ts';
import type { ReceivedMail } from '../helpers/smtp.ts';

/*
 * Shared by the security tests: each of them plays an attack through HTTP, the way an
 * attacker with a browser (or a mail scanner) would, and checks the database afterwards.
 */

/** A CSRF token this client may use: from the page given, else from any page it can open. */
async function csrfFor(client: TestClient, page?: LightMyRequestResponse): Promise<string> {
  if (page) {
    try {
      return csrfTokenOf(page.body);
    } catch {
      // No form on that page: take the token of another one, as an attacker would.
    }
  }
  const other = await client.follow(await client.get('/'));
  return csrfTokenOf(other.body);
}

/**
 * Everything someone holding a confirmation link can try: open it (GET, as a person or a
 * mail scanner does), then press the confirmation button — or forge its POST when the page
 * shows none. Returns the answer to the POST.
 */
export async function tryToConfirm(client: TestClient, link: string | URL): Promise<LightMyRequestResponse> {
  const url = new URL(String(link), 'http://palier.test');
  const page = await client.get(url.pathname + url.search);
  const csrf = await csrfFor(client, page);
  return client.post('/confirmer-email', { token: url.searchParams.get('jeton') ?? '' }, { csrf });
}

/** Waits until the outbox has nothing left to send (every queued mail reached the SMTP capture). */
export async function drainOutbox(t: TestApp, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = await t.db
      .withTables<{ jobs: { status: string; kind: string } }>()
      .selectFrom('jobs')
      .select('status')
      .where('status', 'in', ['pending', 'running'])
      // The hourly purge always waits for its hour: only what leads to a mail counts.
      .where('kind', '!=', 'purge')
      .execute();
    if (left.length === 0) return;
    if (Date.now() > deadline) throw new Error(`outbox not drained within ${timeoutMs} ms (${left.length} left)`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Mails received so far by this address whose subject contains `subject`. */
export function mailsTo(t: TestApp, to: string, subject = ''): ReceivedMail[] {
  return t.smtp.mails.filter((m) => m.to.includes(to.toLowerCase()) && m.subject.includes(subject));
}

/** The login address of a person, as stored. */
export async function emailOf(t: TestApp, userId: number): Promise<string> {
  const row = await t.db.selectFrom('users').select('email').where('id', '=', userId).executeTakeFirstOrThrow();
  return row.email;
}

/** Fails if any of the words appears in the mail (subject, text or HTML). */
export function expectMailFreeOf(mail: ReceivedMail, words: string[]): void {
  for (const w of words) {
    expect(mail.subject, `subject of "${mail.subject}" holds "${w}"`).not.toContain(w);
    expect(mail.text, `text of "${mail.subject}" holds "${w}"`).not.toContain(w);
    expect(mail.html, `HTML of "${mail.subject}" holds "${w}"`).not.toContain(w);
  }
}
