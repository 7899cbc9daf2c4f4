import { enqueueMail } from '../../adapters/mailer/outbox.ts';
import { greetingFor, renderMail } from '../../adapters/mailer/templates.tsx';
import { securityEvent } from '../../core/audit.ts';
import { clientId, inTransaction, type Ctx } from '../../core/context.ts';
import { formatInstantLong } from '../../core/format.ts';
import {
  LIMITS,
  clearAttempts,
  forgetAttempt,
  retryTime,
  takeAttempt,
  type Limit,
} from '../../core/security/attempts.ts';
import { currentSessionHash, endAllSessions } from '../../core/sessions/sessions.ts';
import { checkPassword } from '../../core/security/password-policy.ts';
import { hashPassword, normalizePassword, verifyPassword } from '../../core/security/passwords.ts';
import type { User } from '../../db/schema.ts';
import { NEW_PASSWORD_LIMITED, passwordContext, queueEmailConfirmation } from '../auth/auth.service.ts';
import { deleteUnusedTokens } from '../users/tokens.repository.ts';
import { findUserById, normalizeEmail, setPassword } from '../users/users.repository.ts';
import { pendingEmailChange, updateUserDetails, type UserDetails } from './profile.repository.ts';
import type { ProfileInput } from './profile.schemas.ts';

export type FormResult = { ok: true } | { ok: false; errors: Record<string, string>; status: number };

/** Re-sending the confirmation link: a few times an hour is plenty, and bounds mail abuse. */
export const VERIFY_RESEND_LIMIT: Limit = { scope: 'verify:user', max: 3, windowMs: 60 * 60_000 };

/** Asking to change the login address: each request mails two addresses, so a few an hour at most. */
export const EMAIL_CHANGE_LIMIT: Limit = { scope: 'email_change:user', max: 5, windowMs: 60 * 60_000 };

const EMAIL_CHANGE_LIMITED = (until: Date) =>
  `Vous avez demandé plusieurs changements d’adresse email en peu de temps. Pour votre sécurité, vous pourrez faire une nouvelle demande après ${retryTime(until)}.`;

const LOCKED_MESSAGE = (until: Date) =>
  `Trop de mots de passe erronés ont été saisis. Pour votre sécurité, réessayez après ${retryTime(until)}.`;

/** The signed-in person's row. */
export async function loadUser(ctx: Ctx): Promise<User> {
  const userId = clientId(ctx);
  const user = await findUserById(ctx.db, userId);
  // The session row references the user: it cannot vanish while the request runs.
  if (!user) throw new Error(`user ${userId} of a live session not found`);
  return user;
}

/**
 * The current password proves it is really the person (not someone at an unlocked
 * screen). Failures count with the login failures of this email, so guessing here is
 * as limited as guessing at the login page.
 */
export async function checkCurrentPassword(
  ctx: Ctx,
  user: User,
  password: string,
  action: string,
  field: string,
): Promise<FormResult> {
  const { db } = ctx;
  const now = ctx.now();
  const key = normalizeEmail(user.email);
  // Counted before the check, as at login: parallel guesses cannot exceed the limit.
  const taken = await takeAttempt(db, LIMITS.loginPerEmail, key, now);
  if (!taken.taken) {
    await securityEvent(ctx, { action, outcome: 'denied', userId: user.id, details: { reason: 'locked' } });
    return { ok: false, errors: { _form: LOCKED_MESSAGE(taken.lockedUntil) }, status: 429 };
  }
  if (!(await verifyPassword(user.password_hash, password))) {
    await securityEvent(ctx, {
      action,
      outcome: 'failure',
      userId: user.id,
      details: { reason: 'wrong_password' },
    });
    return { ok: false, errors: { [field]: 'Le mot de passe actuel est incorrect.' }, status: 400 };
  }
  await forgetAttempt(db, taken.id);
  return { ok: true };
}

const DETAIL_COLUMNS: Record<keyof ProfileInput, keyof UserDetails> = {
  civility: 'civility',
  lastName: 'last_name',
  firstName: 'first_name',
  phone: 'phone',
  address: 'address',
  postalCode: 'postal_code',
  city: 'city',
  country: 'country',
};

/** Saves the person's own details; returns the columns that changed (none: nothing written). */
export async function updateProfile(ctx: Ctx, input: ProfileInput): Promise<(keyof UserDetails)[]> {
  const user = await loadUser(ctx);
  const userId = user.id;
  const changes: Partial<UserDetails> = {};
  for (const [field, column] of Object.entries(DETAIL_COLUMNS) as [keyof ProfileInput, keyof UserDetails][]) {
    if ((user[column] ?? '') !== input[field]) (changes as Record<string, string>)[column] = input[field];
  }
  const changed = Object.keys(changes) as (keyof UserDetails)[];
  if (changed.length === 0) return changed;
  await inTransaction(ctx, async (tx) => {
    await updateUserDetails(tx.db, userId, changes, tx.now());
    await securityEvent(tx, { action: 'profile.update', outcome: 'success', details: { fields: changed } });
  });
  return changed;
}

/**
 * Mails a confirmation link to the new address and a notice to the old one (both queued
 * in one transaction with the link); the address changes only when the link is followed
 * (/confirmer-email). An address that already belongs to another space gets exactly the
 * same treatment here (no enumeration): the confirmation step refuses it.
 */
export async function requestEmailChange(
  ctx: Ctx,
  input: { newEmail: string; emailPassword: string },
): Promise<FormResult & { newEmail?: string }> {
  const user = await loadUser(ctx);
  const newEmail = normalizeEmail(input.newEmail);
  if (newEmail === normalizeEmail(user.email)) {
    return { ok: false, errors: { newEmail: 'Cette adresse est déjà celle de votre espace client.' }, status: 400 };
  }
  // Counted before the password is checked: a wrong password uses up a request too.
  const taken = await takeAttempt(ctx.db, EMAIL_CHANGE_LIMIT, String(user.id), ctx.now());
  if (!taken.taken) {
    await securityEvent(ctx, {
      action: 'email.change_request',
      outcome: 'denied',
      userId: user.id,
      details: { reason: 'limited' },
    });
    return { ok: false, errors: { _form: EMAIL_CHANGE_LIMITED(taken.lockedUntil) }, status: 429 };
  }
  const check = await checkCurrentPassword(ctx, user, input.emailPassword, 'email.change_request', 'emailPassword');
  if (!check.ok) return check;

  const agency = await ctx.agency.get();
  const notice = renderMail(agency, {
    to: user.email,
    subject: 'Demande de changement d’adresse email',
    greeting: greetingFor(user),
    paragraphs: [
      `Une demande a été faite depuis votre espace client pour remplacer votre adresse email ${user.email} par ${newEmail}.`,
      'Le changement n’aura lieu que lorsque le lien envoyé à la nouvelle adresse aura été suivi, depuis votre espace connecté. D’ici là, votre adresse actuelle reste celle de votre espace.',
    ],
    action: { label: 'Voir ou annuler la demande', url: `${ctx.config.baseUrl}/profil` },
    after: [
      'Si vous n’êtes pas à l’origine de cette demande, connectez-vous et annulez-la depuis votre profil (bouton « Annuler ce changement »), ou choisissez un nouveau mot de passe avec « Mot de passe oublié ? » : la demande est alors annulée. Prévenez aussi l’agence.',
    ],
  });
  await inTransaction(ctx, async (tx) => {
    await queueEmailConfirmation(tx, agency, user, newEmail);
    await enqueueMail(tx.db, notice, tx.now());
    await securityEvent(tx, { action: 'email.change_request', outcome: 'success', userId: user.id });
  });
  return { ok: true, newEmail };
}

/** The owner withdraws an email change not yet confirmed: its link stops working. */
export async function cancelEmailChange(ctx: Ctx): Promise<boolean> {
  const userId = clientId(ctx);
  const pending = await pendingEmailChange(ctx.db, userId, ctx.now());
  if (!pending) return false;
  await inTransaction(ctx, async (tx) => {
    await deleteUnusedTokens(tx.db, userId, ['change_email']);
    await securityEvent(tx, { action: 'email.change_cancel', outcome: 'success' });
  });
  return true;
}

/** Sends the confirmation link of the current address again (a few times an hour at most). */
export async function resendEmailConfirmation(ctx: Ctx): Promise<'sent' | 'already' | { lockedUntil: Date }> {
  const user = await loadUser(ctx);
  if (user.email_verified_at) return 'already';
  // Counted before anything is sent: parallel requests each see the others' rows.
  const taken = await takeAttempt(ctx.db, VERIFY_RESEND_LIMIT, String(user.id), ctx.now());
  if (!taken.taken) return { lockedUntil: taken.lockedUntil };
  const agency = await ctx.agency.get();
  await inTransaction(ctx, (tx) => queueEmailConfirmation(tx, agency, user));
  return 'sent';
}

/**
 * Changes the password: the current one is asked, the new one follows the policy; every
 * other session of the person ends and this one gets a new id.
 */
export async function changePassword(
  ctx: Ctx,
  input: { currentPassword: string; newPassword: string; confirmPassword: string },
): Promise<FormResult> {
  const user = await loadUser(ctx);
  // Counted before anything is checked: each try scores a new password (see LIMITS).
  const taken = await takeAttempt(ctx.db, LIMITS.newPasswordPerUser, String(user.id), ctx.now());
  if (!taken.taken) {
    await securityEvent(ctx, {
      action: 'password.change',
      outcome: 'denied',
      userId: user.id,
      details: { reason: 'new_password_limit' },
    });
    return { ok: false, errors: { _form: NEW_PASSWORD_LIMITED(taken.lockedUntil) }, status: 429 };
  }
  const check = await checkCurrentPassword(ctx, user, input.currentPassword, 'password.change', 'currentPassword');
  if (!check.ok) return check;
  const agency = await ctx.agency.get();
  const problems = await checkPassword(input.newPassword, await passwordContext(ctx, user, agency));
  if (problems.length) return { ok: false, errors: { newPassword: problems[0]! }, status: 400 };
  const newPassword = normalizePassword(input.newPassword);
  if (newPassword === normalizePassword(input.currentPassword)) {
    return {
      ok: false,
      errors: { newPassword: 'Choisissez un mot de passe différent de votre mot de passe actuel.' },
      status: 400,
    };
  }
  if (newPassword !== normalizePassword(input.confirmPassword)) {
    return { ok: false, errors: { confirmPassword: 'Les deux mots de passe ne sont pas identiques.' }, status: 400 };
  }

  const now = ctx.now();
  const passwordHash = await hashPassword(input.newPassword);
  const notice = renderMail(agency, {
    to: user.email,
    subject: 'Votre mot de passe a été modifié',
    greeting: greetingFor(user),
    paragraphs: [
      `Le mot de passe de votre espace client a été modifié le ${formatInstantLong(now.toISOString())}.`,
      'Par sécurité, vos autres sessions ouvertes (sur d’autres appareils ou navigateurs) ont été fermées.',
    ],
    after: [
      `Si vous n’êtes pas à l’origine de ce changement, choisissez sans attendre un nouveau mot de passe depuis « Mot de passe oublié ? » (${ctx.config.baseUrl}/mot-de-passe-oublie) et prévenez l’agence.`,
    ],
  });
  await inTransaction(ctx, async (tx) => {
    await setPassword(tx.db, user.id, passwordHash, now);
    // Whoever else knew the old password is logged out everywhere, and every link they
    // may have asked for (an email change to their own address, a reset) stops working.
    await endAllSessions(tx, user.id, currentSessionHash(tx));
    await deleteUnusedTokens(tx.db, user.id);
    await enqueueMail(tx.db, notice, now);
  });
  await clearAttempts(ctx.db, LIMITS.loginPerEmail, normalizeEmail(user.email));
  await securityEvent(ctx, { action: 'password.change', outcome: 'success', userId: user.id });
  return { ok: true };
}

/** The address a person asked to move to and has not confirmed yet: Profil shows it, with a way to cancel. */
export async function pendingEmail(ctx: Ctx): Promise<string | null> {
  const pending = await pendingEmailChange(ctx.db, clientId(ctx), ctx.now());
  return pending?.new_email ?? null;
}
