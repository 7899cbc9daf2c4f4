import { z } from 'zod';
import { enqueueMail } from '../../adapters/mailer/outbox.ts';
import { greetingFor, renderMail } from '../../adapters/mailer/templates.tsx';
import type { Agency } from '../../core/agency/agency.repository.ts';
import { securityEvent } from '../../core/audit.ts';
import { inTransaction, type Ctx } from '../../core/context.ts';
import {
  LIMITS,
  clearAttempts,
  forgetAttempt,
  releaseAttempts,
  retryTime,
  takeAttempt,
  takeAttempts,
} from '../../core/security/attempts.ts';
import { checkPassword } from '../../core/security/password-policy.ts';
import { hashPassword, normalizePassword, verifyPassword } from '../../core/security/passwords.ts';
import { endAllSessions, openSession, type OpenedSession } from '../../core/sessions/sessions.ts';
import type { User } from '../../db/schema.ts';
import {
  consumeToken,
  deleteUnusedTokens,
  findValidToken,
  findValidTokenOf,
  issueUserToken,
} from '../users/tokens.repository.ts';
import {
  findUserByEmail,
  findUserById,
  markEmailVerified,
  normalizeEmail,
  referencesOfUser,
  setPassword,
  switchEmail,
} from '../users/users.repository.ts';

export const RESET_TTL_MS = 60 * 60_000;
export const VERIFY_TTL_MS = 7 * 24 * 60 * 60_000;

export type LoginResult = { ok: true; userId: number; session: OpenedSession } | { ok: false; locked: boolean };

/**
 * Same answer, same work, whether the email is unknown or the password wrong. On success,
 * one transaction forgets the attempts, records the login and opens the session.
 */
export async function login(ctx: Ctx, email: string, password: string, userAgent: string): Promise<LoginResult> {
  const { db } = ctx;
  const key = normalizeEmail(email);
  // Counted before the check, so parallel requests cannot run more than the limit allows.
  const taken = await takeAttempts(
    db,
    [
      [LIMITS.loginPerEmail, key],
      [LIMITS.loginPerIp, ctx.actor.ip ?? ''],
    ],
    ctx.now(),
  );
  if (!taken.ok) {
    await securityEvent(ctx, { action: 'login.locked', outcome: 'denied', details: {} });
    return { ok: false, locked: true };
  }
  const user = await findUserByEmail(db, key);
  const ok = await verifyPassword(user?.password_hash, password);
  if (!ok || !user) {
    await securityEvent(ctx, { action: 'login', outcome: 'failure', userId: user?.id ?? null });
    return { ok: false, locked: false };
  }
  const session = await inTransaction(ctx, async (tx) => {
    await releaseAttempts(tx.db, taken.ids, [[LIMITS.loginPerEmail, key]]);
    await securityEvent(tx, { action: 'login', outcome: 'success', userId: user.id });
    return openSession(tx, user.id, userAgent);
  });
  return { ok: true, userId: user.id, session };
}

/** What a password may not be built from: the person's names, email, references, the agency's name. */
export async function passwordContext(
  ctx: Ctx,
  user: Pick<User, 'id' | 'first_name' | 'last_name' | 'email'>,
  agency?: Agency,
) {
  const refs = await referencesOfUser(ctx.db, user.id);
  const a = agency ?? (await ctx.agency.get());
  return { personal: [user.first_name, user.last_name, user.email, ...refs, a.configured ? a.name : null] };
}

/** The job kind that turns a "Mot de passe oublié ?" request into a mail, when the address is known. */
export const RESET_REQUEST_JOB = 'reset_password_request';

const resetRequestSchema = z.object({ email: z.string().min(1), ip: z.string(), baseUrl: z.string().min(1) });

/**
 * Always answers the same way, after the same work: the request is counted (per address
 * and per IP) and handed to the job queue whether or not the address belongs to anyone,
 * so neither the answer nor its timing tells. The worker looks the person up and mails
 * the link (mailPasswordReset).
 */
export async function requestPasswordReset(ctx: Ctx, email: string): Promise<void> {
  const key = normalizeEmail(email);
  const ip = ctx.actor.ip ?? '';
  const taken = await takeAttempts(
    ctx.db,
    [
      [LIMITS.resetPerEmail, key],
      [LIMITS.resetPerIp, ip],
    ],
    ctx.now(),
  );
  if (!taken.ok) {
    await securityEvent(ctx, { action: 'reset.request', outcome: 'denied' });
    return;
  }
  await inTransaction(ctx, async (tx) => {
    await tx.queue.add(RESET_REQUEST_JOB, { email: key, ip, baseUrl: ctx.config.baseUrl });
    await securityEvent(tx, { action: 'reset.request', outcome: 'success' });
  });
}

/** Whether a job's payload is a reset request, and the address it came from (the job's actor). */
export function parseResetRequest(payload: unknown): z.infer<typeof resetRequestSchema> | null {
  const parsed = resetRequestSchema.safeParse(payload);
  return parsed.success ? parsed.data : null;
}

/**
 * The worker's side of "Mot de passe oublié ?": for a known address, a single-use link
 * valid one hour and its mail are written together (the mail goes through the outbox);
 * an unknown address gets nothing. Either way the outcome is a security event. Returns
 * what the finished job keeps (nothing of the typed address).
 */
export async function mailPasswordReset(
  ctx: Ctx,
  request: { email: string; baseUrl: string },
): Promise<{ userId?: number }> {
  const user = await findUserByEmail(ctx.db, request.email);
  if (!user) {
    await securityEvent(ctx, { action: 'reset.mail', outcome: 'failure', details: { reason: 'unknown_email' } });
    return {};
  }
  const agency = await ctx.agency.get();
  await inTransaction(ctx, async (tx) => {
    const token = await issueUserToken(tx.db, user.id, 'reset_password', RESET_TTL_MS, tx.now());
    const mail = renderMail(agency, {
      to: user.email,
      subject: 'Choisir un nouveau mot de passe',
      greeting: greetingFor(user),
      paragraphs: [
        'Vous avez demandé à choisir un nouveau mot de passe pour votre espace client.',
        'Cliquez sur le bouton ci-dessous pour le faire. Ce lien ne sert qu’une fois et reste valable une heure.',
      ],
      action: {
        label: 'Choisir un nouveau mot de passe',
        url: `${request.baseUrl}/nouveau-mot-de-passe?jeton=${token}`,
      },
      after: [
        'Si vous n’êtes pas à l’origine de cette demande, ignorez ce message : votre mot de passe actuel reste valable.',
      ],
    });
    await enqueueMail(tx.db, mail, tx.now());
    await securityEvent(tx, { action: 'reset.mail', outcome: 'success', userId: user.id });
  });
  return { userId: user.id };
}

/** Whether a reset link still works (the page that opens it says so before anything is typed). */
export async function isResetLinkValid(ctx: Ctx, token: string): Promise<boolean> {
  return Boolean(await findValidToken(ctx.db, token, 'reset_password', ctx.now()));
}

/** Shown wherever a new password is chosen, once too many have been tried. */
export const NEW_PASSWORD_LIMITED = (until: Date) =>
  `Trop de mots de passe ont été essayés en peu de temps. Pour votre sécurité, réessayez après ${retryTime(until)}.`;

export type ResetResult =
  { ok: true; userId: number } | { ok: false; invalid: true } | { ok: false; errors: Record<string, string> };

export async function resetPassword(ctx: Ctx, token: string, password: string, confirm: string): Promise<ResetResult> {
  const { db } = ctx;
  const now = ctx.now();
  const row = await findValidToken(db, token, 'reset_password', now);
  if (!row) return { ok: false, invalid: true };
  const user = await findUserById(db, row.user_id);
  if (!user) return { ok: false, invalid: true };
  // Counted before the password is scored, so parallel posts cannot exceed the limits. A
  // link past its limit is spent: whoever holds it asks for a new one (itself limited).
  const byLink = await takeAttempt(db, LIMITS.newPasswordPerLink, row.token_hash, now);
  if (!byLink.taken) {
    await consumeToken(db, token, now);
    await securityEvent(ctx, {
      action: 'reset.complete',
      outcome: 'denied',
      userId: user.id,
      details: { reason: 'link_limit' },
    });
    return { ok: false, invalid: true };
  }
  const byEmail = await takeAttempt(db, LIMITS.newPasswordPerEmail, normalizeEmail(user.email), now);
  if (!byEmail.taken) {
    await forgetAttempt(db, byLink.id);
    await securityEvent(ctx, {
      action: 'reset.complete',
      outcome: 'denied',
      userId: user.id,
      details: { reason: 'email_limit' },
    });
    return { ok: false, errors: { _form: NEW_PASSWORD_LIMITED(byEmail.lockedUntil) } };
  }
  const problems = await checkPassword(password, await passwordContext(ctx, user));
  if (problems.length) return { ok: false, errors: { password: problems[0]! } };
  if (normalizePassword(password) !== normalizePassword(confirm)) {
    return { ok: false, errors: { confirm: 'Les deux mots de passe ne sont pas identiques.' } };
  }
  const passwordHash = await hashPassword(password);
  const done = await inTransaction(ctx, async (tx) => {
    if (!(await consumeToken(tx.db, token, tx.now()))) return false;
    await setPassword(tx.db, user.id, passwordHash, tx.now());
    // The link proves the person reads this mailbox.
    if (!user.email_verified_at) await markEmailVerified(tx.db, user.id, tx.now());
    // Whoever knew the old password may have asked for an email change or another link:
    // every one of them ends with the reset, as every session does.
    await deleteUnusedTokens(tx.db, user.id);
    await endAllSessions(tx, user.id);
    return true;
  });
  if (!done) return { ok: false, invalid: true };
  await clearAttempts(ctx.db, LIMITS.loginPerEmail, user.email);
  await securityEvent(ctx, { action: 'reset.complete', outcome: 'success', userId: user.id });
  return { ok: true, userId: user.id };
}

/**
 * Puts in the outbox a link that confirms the person reads this address (after claim, or
 * for a new email). Give it the context of the transaction of the change that calls for
 * it: the link and its mail exist together or not at all.
 */
export async function queueEmailConfirmation(
  ctx: Ctx,
  agency: Agency,
  user: Pick<User, 'id' | 'email' | 'civility' | 'first_name' | 'last_name'>,
  newEmail: string | null = null,
): Promise<void> {
  const now = ctx.now();
  const purpose = newEmail ? 'change_email' : 'verify_email';
  const token = await issueUserToken(ctx.db, user.id, purpose, VERIFY_TTL_MS, now, newEmail);
  await enqueueMail(
    ctx.db,
    renderMail(agency, {
      to: newEmail ?? user.email,
      subject: 'Confirmez votre adresse email',
      // The address is not proved yet: nothing the requester typed (a name could carry a
      // phishing sentence) goes to it, only the agency's own words.
      greeting: 'Bonjour,',
      paragraphs: newEmail
        ? [
            `Vous avez demandé à utiliser l’adresse ${newEmail} pour votre espace client.`,
            'Confirmez-la en cliquant sur le bouton ci-dessous, puis en vous connectant à votre espace : elle remplacera alors l’ancienne pour vous connecter.',
          ]
        : ['Votre espace client est créé. Confirmez votre adresse email en cliquant sur le bouton ci-dessous.'],
      action: { label: 'Confirmer mon adresse email', url: `${ctx.config.baseUrl}/confirmer-email?jeton=${token}` },
      after: ['Ce lien est valable sept jours. Si vous n’êtes pas à l’origine de cette demande, ignorez ce message.'],
    }),
    now,
  );
}

export type ConfirmLink =
  | { kind: 'invalid' }
  | { kind: 'verify' }
  /** A change of address: only its owner, signed in, may confirm it. */
  | { kind: 'change'; newEmail: string; needsSignIn: boolean; otherPerson: boolean };

/** What a confirmation link is, before anything changes: the page it opens shows a button. */
export async function inspectEmailLink(ctx: Ctx, token: string): Promise<ConfirmLink> {
  const row = await findValidTokenOf(ctx.db, token, ['verify_email', 'change_email'], ctx.now());
  if (!row) return { kind: 'invalid' };
  if (row.purpose === 'verify_email') return { kind: 'verify' };
  const signedIn = ctx.actor.kind === 'client' ? ctx.actor.userId : null;
  return {
    kind: 'change',
    newEmail: row.new_email ?? '',
    needsSignIn: signedIn === null,
    otherPerson: signedIn !== null && signedIn !== row.user_id,
  };
}

export type ConfirmResult = { ok: true; userId: number } | { ok: false; needsSignIn?: boolean };

/**
 * Confirms a first email, or switches to a new one; the new one must still be free. A
 * switch needs the owner's own signed-in session (a link alone, forwarded or intercepted,
 * cannot move the address), voids the reset links mailed to the old address and ends the
 * person's other sessions; the session that confirms continues.
 */
export async function confirmEmail(ctx: Ctx, token: string): Promise<ConfirmResult> {
  const now = ctx.now();
  const row = await findValidTokenOf(ctx.db, token, ['verify_email', 'change_email'], now);
  if (!row) return { ok: false };
  if (row.purpose === 'change_email') {
    const signedIn = ctx.actor.kind === 'client' ? ctx.actor.userId : null;
    if (signedIn === null) return { ok: false, needsSignIn: true };
    if (signedIn !== row.user_id) {
      await securityEvent(ctx, { action: 'email.change_email', outcome: 'denied', userId: row.user_id });
      return { ok: false };
    }
  }
  const ok = await inTransaction(ctx, async (tx) => {
    if (!(await consumeToken(tx.db, token, now))) return false;
    if (row.purpose === 'change_email' && row.new_email) {
      const taken = await findUserByEmail(tx.db, row.new_email);
      if (taken && taken.id !== row.user_id) return false;
      await switchEmail(tx.db, row.user_id, row.new_email, now);
      await deleteUnusedTokens(tx.db, row.user_id, ['reset_password']);
      await endAllSessions(tx, row.user_id, tx.actor.kind === 'client' ? tx.actor.sessionHash : null);
    } else {
      await markEmailVerified(tx.db, row.user_id, now);
    }
    return true;
  });
  await securityEvent(ctx, {
    action: `email.${row.purpose}`,
    outcome: ok ? 'success' : 'failure',
    userId: row.user_id,
  });
  return ok ? { ok: true, userId: row.user_id } : { ok: false };
}
