import type { FastifyInstance, FastifyRequest } from 'fastify';
import { enqueueMail } from '../../adapters/mailer/outbox.ts';
import { renderMail, greeting } from '../../adapters/mailer/templates.tsx';
import { securityEvent } from '../../core/audit.ts';
import { z } from 'zod';
import { agencyOf } from '../../core/http/render.ts';
import { enqueue } from '../../core/jobs/jobs.repository.ts';
import { PermanentJobError, type JobHandler, type WorkerLog } from '../../core/jobs/worker.ts';
import { LIMITS, clearAttempts, forgetAttempt, takeAttempts } from '../../core/security/attempts.ts';
import { checkPassword } from '../../core/security/password-policy.ts';
import { hashPassword, verifyPassword } from '../../core/security/passwords.ts';
import type { User } from '../../db/schema.ts';
import { getAgency, type Agency } from '../../core/agency/agency.repository.ts';
import { deleteUnusedTokens } from './auth.repository.ts';
import { findUserByEmail, normalizeEmail, setPassword } from '../users/users.repository.ts';
import { consumeToken, findValidToken, issueUserToken } from '../users/tokens.repository.ts';
import { endAllSessions } from '../../core/http/session.ts';
import type { Db } from '../../db/db.ts';

export const RESET_TTL_MS = 60 * 60_000;
export const VERIFY_TTL_MS = 7 * 24 * 60 * 60_000;

export type LoginResult = { ok: true; userId: number } | { ok: false; locked: boolean };

/** Same answer, same work, whether the email is unknown or the password wrong. */
export async function login(
  app: FastifyInstance,
  req: FastifyRequest,
  email: string,
  password: string,
): Promise<LoginResult> {
  const { db } = app.deps;
  const now = app.deps.now();
  const key = normalizeEmail(email);
  // Counted before the check, so parallel requests cannot run more than the limit allows.
  const taken = await takeAttempts(
    db,
    [
      [LIMITS.loginPerEmail, key],
      [LIMITS.loginPerIp, req.ip],
    ],
    now,
  );
  if (!taken.ok) {
    await securityEvent(req, db, { action: 'login.locked', outcome: 'denied', details: {} });
    return { ok: false, locked: true };
  }
  const user = await findUserByEmail(db, key);
  const ok = await verifyPassword(user?.password_hash, password);
  if (!ok || !user) {
    await securityEvent(req, db, { action: 'login', outcome: 'failure', userId: user?.id ?? null });
    return { ok: false, locked: false };
  }
  await Promise.all(taken.ids.map((id) => forgetAttempt(db, id)));
  await clearAttempts(db, LIMITS.loginPerEmail, key);
  await securityEvent(req, db, { action: 'login', outcome: 'success', userId: user.id });
  return { ok: true, userId: user.id };
}

/** What a password may not be built from: the person's names, email, references, the agency's name. */
export async function passwordContext(
  db: Db,
  user: Pick<User, 'id' | 'first_name' | 'last_name' | 'email'>,
  agency: Agency,
) {
  const refs = await db
    .selectFrom('user_accounts')
    .innerJoin('client_accounts', 'client_accounts.id', 'user_accounts.account_id')
    .select('client_accounts.reference')
    .where('user_accounts.user_id', '=', user.id)
    .execute();
  return {
    personal: [
      user.first_name,
      user.last_name,
      user.email,
      ...refs.map((r) => r.reference),
      agency.configured ? agency.name : null,
    ],
  };
}

/** The job kind that turns a "Mot de passe oublié ?" request into a mail, when the address is known. */
export const RESET_REQUEST_JOB = 'reset_password_request';

const resetRequestSchema = z.object({ email: z.string().min(1), ip: z.string(), baseUrl: z.string().min(1) });

/**
 * Always answers the same way, after the same work: the request is counted (per address
 * and per IP) and handed to the job queue whether or not the address belongs to anyone,
 * so neither the answer nor its timing tells. The worker looks the person up and mails
 * the link (resetRequestHandler).
 */
export async function requestPasswordReset(app: FastifyInstance, req: FastifyRequest, email: string): Promise<void> {
  const { db, config } = app.deps;
  const now = app.deps.now();
  const key = normalizeEmail(email);
  const taken = await takeAttempts(
    db,
    [
      [LIMITS.resetPerEmail, key],
      [LIMITS.resetPerIp, req.ip],
    ],
    now,
  );
  if (!taken.ok) {
    await securityEvent(req, db, { action: 'reset.request', outcome: 'denied' });
    return;
  }
  await db.transaction().execute(async (trx) => {
    await enqueue(trx, RESET_REQUEST_JOB, { email: key, ip: req.ip, baseUrl: config.baseUrl }, { now });
    await securityEvent(req, trx, { action: 'reset.request', outcome: 'success' });
  });
}

/**
 * The worker's side of "Mot de passe oublié ?": for a known address, a single-use link
 * valid one hour and its mail are written together (the mail goes through the outbox);
 * an unknown address gets nothing. Either way the outcome is a security event.
 */
export function resetRequestHandler(deps: { db: Db; now: () => Date; log: WorkerLog }): JobHandler {
  return async (payload) => {
    const parsed = resetRequestSchema.safeParse(payload);
    if (!parsed.success) throw new PermanentJobError('demande de nouveau mot de passe mal formée');
    const { email, ip, baseUrl } = parsed.data;
    const { db } = deps;
    const now = deps.now();
    // The request's address and the app's clock, for the log line and the audit event.
    const source = { ip, log: deps.log, server: { deps: { now: deps.now } } };
    const user = await findUserByEmail(db, email);
    if (!user) {
      await securityEvent(source, db, {
        action: 'reset.mail',
        outcome: 'failure',
        details: { reason: 'unknown_email' },
      });
      // Nothing of the typed address stays in the queue.
      return { retain: {} };
    }
    const agency = await getAgency(db);
    await db.transaction().execute(async (trx) => {
      const token = await issueUserToken(trx, user.id, 'reset_password', RESET_TTL_MS, now);
      const mail = renderMail(agency, {
        to: user.email,
        subject: 'Choisir un nouveau mot de passe',
        greeting: greeting(user.civility, user.first_name, user.last_name),
        paragraphs: [
          'Vous avez demandé à choisir un nouveau mot de passe pour votre espace client.',
          'Cliquez sur le bouton ci-dessous pour le faire. Ce lien ne sert qu’une fois et reste valable une heure.',
        ],
        action: {
          label: 'Choisir un nouveau mot de passe',
          url: `${baseUrl}/nouveau-mot-de-passe?jeton=${token}`,
        },
        after: [
          'Si vous n’êtes pas à l’origine de cette demande, ignorez ce message : votre mot de passe actuel reste valable.',
        ],
      });
      await enqueueMail(trx, mail, now);
      await securityEvent(source, trx, { action: 'reset.mail', outcome: 'success', userId: user.id });
    });
    return { retain: { userId: user.id } };
  };
}

export type ResetResult =
  { ok: true; userId: number } | { ok: false; invalid: true } | { ok: false; errors: Record<string, string> };

export async function resetPassword(
  app: FastifyInstance,
  req: FastifyRequest,
  token: string,
  password: string,
  confirm: string,
): Promise<ResetResult> {
  const { db } = app.deps;
  const now = app.deps.now();
  const row = await findValidToken(db, token, 'reset_password', now);
  if (!row) return { ok: false, invalid: true };
  const user = await db.selectFrom('users').selectAll().where('id', '=', row.user_id).executeTakeFirstOrThrow();
  const problems = checkPassword(password, await passwordContext(db, user, await agencyOf(req)));
  if (problems.length) return { ok: false, errors: { password: problems[0]! } };
  if (password !== confirm) return { ok: false, errors: { confirm: 'Les deux mots de passe ne sont pas identiques.' } };
  const passwordHash = await hashPassword(password);
  const done = await db.transaction().execute(async (trx) => {
    if (!(await consumeToken(trx, token, now))) return false;
    await setPassword(trx, user.id, passwordHash, now);
    // The link proves the person reads this mailbox.
    if (!user.email_verified_at) {
      await trx.updateTable('users').set({ email_verified_at: now.toISOString() }).where('id', '=', user.id).execute();
    }
    await endAllSessions(trx, user.id);
    return true;
  });
  if (!done) return { ok: false, invalid: true };
  await clearAttempts(db, LIMITS.loginPerEmail, user.email);
  await securityEvent(req, db, { action: 'reset.complete', outcome: 'success', userId: user.id });
  return { ok: true, userId: user.id };
}

/**
 * Puts in the outbox a link that confirms the person reads this address (after claim, or
 * for a new email). Give it the transaction of the change that calls for it: the link and
 * its mail exist together or not at all.
 */
export async function queueEmailConfirmation(
  app: FastifyInstance,
  trx: Db,
  agency: Agency,
  user: Pick<User, 'id' | 'email' | 'civility' | 'first_name' | 'last_name'>,
  newEmail: string | null = null,
): Promise<void> {
  const { config } = app.deps;
  const now = app.deps.now();
  const purpose = newEmail ? 'change_email' : 'verify_email';
  const token = await issueUserToken(trx, user.id, purpose, VERIFY_TTL_MS, now, newEmail);
  await enqueueMail(
    trx,
    renderMail(agency, {
      to: newEmail ?? user.email,
      subject: 'Confirmez votre adresse email',
      greeting: greeting(user.civility, user.first_name, user.last_name),
      paragraphs: newEmail
        ? [
            `Vous avez demandé à utiliser l’adresse ${newEmail} pour votre espace client.`,
            'Confirmez-la en cliquant sur le bouton ci-dessous : elle remplacera alors l’ancienne pour vous connecter.',
          ]
        : ['Votre espace client est créé. Confirmez votre adresse email en cliquant sur le bouton ci-dessous.'],
      action: { label: 'Confirmer mon adresse email', url: `${config.baseUrl}/confirmer-email?jeton=${token}` },
      after: ['Ce lien est valable sept jours. Si vous n’êtes pas à l’origine de cette demande, ignorez ce message.'],
    }),
    now,
  );
}

export type ConfirmResult = { ok: true; userId: number } | { ok: false };

/**
 * Confirms a first email, or switches to a new one; the new one must still be free. A
 * switch also voids the reset links mailed to the old address and ends the person's other
 * sessions (whoever controlled the old address or an old session is shut out); the
 * session that follows the link, if it is the person's, continues.
 */
export async function confirmEmail(app: FastifyInstance, req: FastifyRequest, token: string): Promise<ConfirmResult> {
  const { db } = app.deps;
  const now = app.deps.now();
  const row =
    (await findValidToken(db, token, 'verify_email', now)) ?? (await findValidToken(db, token, 'change_email', now));
  if (!row) return { ok: false };
  const ok = await db.transaction().execute(async (trx) => {
    if (!(await consumeToken(trx, token, now))) return false;
    if (row.purpose === 'change_email' && row.new_email) {
      const taken = await findUserByEmail(trx, row.new_email);
      if (taken && taken.id !== row.user_id) return false;
      await trx
        .updateTable('users')
        .set({ email: row.new_email, email_verified_at: now.toISOString(), updated_at: now.toISOString() })
        .where('id', '=', row.user_id)
        .execute();
      await deleteUnusedTokens(trx, row.user_id, 'reset_password');
      await endAllSessions(trx, row.user_id, req.sessionHash);
    } else {
      await trx
        .updateTable('users')
        .set({ email_verified_at: now.toISOString() })
        .where('id', '=', row.user_id)
        .execute();
    }
    return true;
  });
  await securityEvent(req, db, {
    action: `email.${row.purpose}`,
    outcome: ok ? 'success' : 'failure',
    userId: row.user_id,
  });
  return ok ? { ok: true, userId: row.user_id } : { ok: false };
}
