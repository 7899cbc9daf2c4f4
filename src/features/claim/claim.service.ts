import { enqueueMail } from '../../adapters/mailer/outbox.ts';
import { greetingFor, renderMail } from '../../adapters/mailer/templates.tsx';
import { securityEvent } from '../../core/audit.ts';
import { formatInstantLong } from '../../core/format.ts';
import { hashAccessCode } from '../../core/security/access-code.ts';
import { inTransaction, type Ctx } from '../../core/context.ts';
import {
  LIMITS,
  forgetAttempt,
  releaseAttempts,
  lockedUntil,
  takeAttempt,
  takeAttempts,
  type Limit,
} from '../../core/security/attempts.ts';
import { checkPassword } from '../../core/security/password-policy.ts';
import { hashPassword, normalizePassword } from '../../core/security/passwords.ts';
import { safeEqual, sha256 } from '../../core/security/tokens.ts';
import type { Db } from '../../db/db.ts';
import type { ClientAccount } from '../../db/schema.ts';
import { accountTitle } from '../accounts/accounts.presenter.ts';
import type { Agency } from '../../core/agency/agency.repository.ts';
import { NEW_PASSWORD_LIMITED, queueEmailConfirmation } from '../auth/auth.service.ts';
import { findUserByEmail, holdersOfAccount, insertUser, linkAccount } from '../users/users.repository.ts';
import {
  createClaimTicket,
  deleteTicket,
  findAccountByTypedReference,
  findTicketAccount,
  markCodeUsed,
  normalizeReference,
  userHoldsAccount,
} from './claim.repository.ts';
import type { ProfileInput } from './claim.schemas.ts';

export const TICKET_TTL_MS = 30 * 60_000;

/** As long as an access code's HMAC (43 base64url characters), never equal to one: `!` is not base64url. */
const NO_CODE = '!'.repeat(43);

export type CodeCheck =
  { ok: true; account: ClientAccount; codeHash: string } | { ok: false; lockedUntil: Date | null };

/**
 * Checks an Identifiant + Mot de passe from the paper letter. A wrong code, an unknown
 * reference and a used or superseded code give the same result and count the same
 * attempts, so nothing tells them apart; the code itself is never logged.
 */
export async function checkAccessCode(
  ctx: Ctx,
  input: { reference: string; code: string; action: 'claim.code' | 'attach.code'; userId?: number },
): Promise<CodeCheck> {
  const { db, config } = ctx;
  const now = ctx.now();
  const ip = ctx.actor.ip ?? '';
  const refKey = normalizeReference(input.reference);
  const userId = input.userId ?? null;
  // Counted before the check, so parallel requests cannot run more than the limit allows.
  const taken = await takeAttempts(
    db,
    [
      [LIMITS.codePerReference, refKey],
      [LIMITS.codePerIp, ip],
    ],
    now,
  );
  // Looked up and hashed whatever happens next, so that neither a lock nor the existence of
  // the reference changes the work done, and the time taken, before the answer.
  const account = await findAccountByTypedReference(db, input.reference);
  const codeHash = hashAccessCode(config.secrets.hmacKey, input.code);
  // People type their code into the Identifiant field: what they typed is never logged,
  // only the account it names, if any.
  const about = { accountId: account?.id ?? null, details: { reference: account?.reference ?? null } };
  if (!taken.ok) {
    await securityEvent(ctx, { action: input.action, outcome: 'denied', userId, ...about });
    return { ok: false, lockedUntil: taken.lockedUntil };
  }
  // Compared even without an account or a code (against a value no hash equals).
  const matches = safeEqual(account?.access_code_hash ?? NO_CODE, codeHash);
  const valid = !!account && !!account.access_code_hash && !account.access_code_used_at && matches;
  if (!valid || !account) {
    // The attempts taken above stay as failures.
    await securityEvent(ctx, { action: input.action, outcome: 'failure', userId, ...about });
    // The failure that reaches the limit already says when to retry.
    return { ok: false, lockedUntil: await currentLock(db, refKey, ip, now) };
  }
  await releaseAttempts(db, taken.ids, [[LIMITS.codePerReference, refKey]]);
  await securityEvent(ctx, { action: input.action, outcome: 'success', userId, ...about });
  return { ok: true, account, codeHash };
}

async function currentLock(db: Db, refKey: string, ip: string, now: Date): Promise<Date | null> {
  const byRef = await lockedUntil(db, LIMITS.codePerReference, refKey, now);
  const byIp = await lockedUntil(db, LIMITS.codePerIp, ip, now);
  if (byRef && byIp) return byRef > byIp ? byRef : byIp;
  return byRef ?? byIp;
}

/** Step 1 succeeded: a ticket valid 30 minutes identifies the account in step 2. */
export function issueTicket(ctx: Ctx, accountId: number): Promise<string> {
  return createClaimTicket(ctx.db, accountId, ctx.now(), TICKET_TTL_MS);
}

export function accountOfTicket(ctx: Ctx, ticket: string) {
  return findTicketAccount(ctx.db, ticket, ctx.now());
}

/** What the agency knows, to prefill step 2. */
export function prefillFrom(account: ClientAccount): Partial<Record<keyof ProfileInput, string>> {
  return {
    civility: civilityOf(account.civility),
    lastName: account.last_name ?? '',
    firstName: account.first_name ?? '',
    email: account.email ?? '',
    phone: account.phone ?? '',
    address: account.address ?? '',
    postalCode: account.postal_code ?? '',
    city: account.city ?? '',
    country: account.country ?? '',
  };
}

/** Accounting software writes civilities many ways; the form offers four. */
function civilityOf(raw: string | null): string {
  const v = (raw ?? '').trim().toLowerCase().replace(/\.$/, '');
  if (['m', 'mr', 'monsieur'].includes(v)) return 'M.';
  if (['mme', 'madame', 'mlle', 'mademoiselle'].includes(v)) return 'Mme';
  if (['m et mme', 'm. et mme', 'monsieur et madame', 'mr et mme'].includes(v)) return 'M. et Mme';
  if (['société', 'societe', 'sté', 'ste', 'sci', 'sarl', 'sas'].includes(v)) return 'Société';
  return '';
}

export type ClaimResult =
  | { ok: true; userId: number; email: string }
  | { ok: false; reason: 'invalid_ticket' }
  | { ok: false; reason: 'email_taken' }
  | { ok: false; reason: 'errors'; errors: Record<string, string> };

/**
 * "This email already has a space" is an answer about someone else. It is counted per
 * account (whose code opened step 2: every new ticket of the same code shares the count)
 * and per client address, three and ten times an hour, so neither a ticket nor a code nor
 * a machine can test a list of addresses; past that the ticket is spent and the person
 * is answered as with an expired one.
 */
export const EMAIL_TAKEN_PER_ACCOUNT: Limit = { scope: 'claim:email_taken', max: 3, windowMs: 60 * 60_000 };
export const EMAIL_TAKEN_PER_IP: Limit = { scope: 'claim:email_taken_ip', max: 10, windowMs: 60 * 60_000 };

/** Counts one "email already has a space" answer (before giving it); past the limits, the ticket is spent. */
async function emailTakenAnswer(ctx: Ctx, account: ClientAccount, ticket: string): Promise<ClaimResult> {
  const taken = await takeAttempts(
    ctx.db,
    [
      [EMAIL_TAKEN_PER_ACCOUNT, String(account.id)],
      [EMAIL_TAKEN_PER_IP, ctx.actor.ip ?? ''],
    ],
    ctx.now(),
  );
  if (!taken.ok) {
    await deleteTicket(ctx.db, ticket);
    await securityEvent(ctx, {
      action: 'claim',
      outcome: 'denied',
      accountId: account.id,
      details: { reason: 'email_taken_limit' },
    });
    return { ok: false, reason: 'invalid_ticket' };
  }
  await securityEvent(ctx, {
    action: 'claim',
    outcome: 'failure',
    accountId: account.id,
    details: { reason: 'email_taken' },
  });
  return { ok: false, reason: 'email_taken' };
}

/**
 * Counts one submission of step 2 (each scores a new password) before anything is checked:
 * ten per ticket, past which the ticket is spent (the code, still unused, gives a new one,
 * within its own limits), and thirty per client address. Returns the answer when refused.
 */
async function takeNewPasswordAttempt(ctx: Ctx, account: ClientAccount, ticket: string): Promise<ClaimResult | null> {
  const { db } = ctx;
  const now = ctx.now();
  const byTicket = await takeAttempt(db, LIMITS.newPasswordPerTicket, sha256(ticket), now);
  if (!byTicket.taken) {
    await deleteTicket(db, ticket);
    await securityEvent(ctx, {
      action: 'claim',
      outcome: 'denied',
      accountId: account.id,
      details: { reason: 'ticket_limit' },
    });
    return { ok: false, reason: 'invalid_ticket' };
  }
  const byIp = await takeAttempt(db, LIMITS.newPasswordPerIp, ctx.actor.ip ?? '', now);
  if (!byIp.taken) {
    await forgetAttempt(db, byTicket.id);
    await securityEvent(ctx, {
      action: 'claim',
      outcome: 'denied',
      accountId: account.id,
      details: { reason: 'ip_limit' },
    });
    return { ok: false, reason: 'errors', errors: { _form: NEW_PASSWORD_LIMITED(byIp.lockedUntil) } };
  }
  return null;
}

/**
 * Step 2: creates the person's space. In one transaction the ticket and the still-unused
 * code are checked again, the code is marked used (conditionally: a double submit creates
 * one person only), the person is created, the account linked, and put in the outbox: the
 * mail with the link that confirms the address, and the notice to anyone who already
 * held the account.
 */
export async function claimAccount(ctx: Ctx, account: ClientAccount, input: ProfileInput): Promise<ClaimResult> {
  const { db } = ctx;
  const agency = await ctx.agency.get();
  const limited = await takeNewPasswordAttempt(ctx, account, input.ticket);
  if (limited) return limited;
  const problems = await checkPassword(input.password, {
    personal: [input.firstName, input.lastName, input.email, account.reference, agency.configured ? agency.name : null],
  });
  if (problems.length) return { ok: false, reason: 'errors', errors: { password: problems[0]! } };
  if (normalizePassword(input.password) !== normalizePassword(input.confirm)) {
    return { ok: false, reason: 'errors', errors: { confirm: 'Les deux mots de passe ne sont pas identiques.' } };
  }
  if (await findUserByEmail(db, input.email)) return emailTakenAnswer(ctx, account, input.ticket);
  const passwordHash = await hashPassword(input.password);
  const now = ctx.now();
  let outcome: 'ok' | 'invalid_ticket' | 'email_taken';
  let userId = 0;
  try {
    outcome = await inTransaction(ctx, async (tx) => {
      const trx = tx.db;
      const ticketAccount = await findTicketAccount(trx, input.ticket, now);
      if (!ticketAccount || ticketAccount.id !== account.id) return 'invalid_ticket';
      // Checked before anything is written: an email already in use consumes nothing.
      if (await findUserByEmail(trx, input.email)) return 'email_taken';
      if (!(await markCodeUsed(trx, account.id, now))) return 'invalid_ticket';
      userId = await insertUser(trx, {
        email: input.email,
        email_verified_at: null,
        password_hash: passwordHash,
        civility: input.civility,
        last_name: input.lastName,
        first_name: input.firstName,
        phone: input.phone,
        address: input.address,
        postal_code: input.postalCode,
        city: input.city,
        country: input.country || null,
        created_at: now.toISOString(),
        updated_at: now.toISOString(),
      });
      await linkAccount(trx, userId, account.id, now);
      await deleteTicket(trx, input.ticket);
      await queueEmailConfirmation(tx, agency, {
        id: userId,
        email: input.email,
        civility: input.civility,
        first_name: input.firstName,
        last_name: input.lastName,
      });
      await securityEvent(tx, {
        action: 'claim',
        outcome: 'success',
        userId,
        accountId: account.id,
        details: { reference: account.reference },
      });
      // A code re-issued by the agency for a second person: whoever held the account already learns of it.
      await queueAttachNotices(
        trx,
        agency,
        account,
        { id: userId, firstName: input.firstName, lastName: input.lastName },
        now,
      );
      return 'ok';
    });
  } catch (err) {
    // Two people racing for the same new email: the database's unique index decides.
    if (await findUserByEmail(db, input.email)) outcome = 'email_taken';
    else throw err;
  }
  if (outcome === 'email_taken') return emailTakenAnswer(ctx, account, input.ticket);
  if (outcome === 'invalid_ticket') return { ok: false, reason: 'invalid_ticket' };
  return { ok: true, userId, email: input.email };
}

export type AttachResult =
  | { ok: true; account: ClientAccount }
  | { ok: false; reason: 'already_held'; account: ClientAccount }
  | { ok: false; reason: 'refused'; lockedUntil: Date | null };

/** "Ajouter un compte": the same check as the claim, then the account joins the person's space. */
export async function attachAccount(
  ctx: Ctx,
  user: { id: number; firstName: string; lastName: string },
  reference: string,
  code: string,
): Promise<AttachResult> {
  const { db } = ctx;
  // The person already holds it, so saying so reveals nothing; no attempt is counted.
  const known = await findAccountByTypedReference(db, reference);
  // Asked even for an unknown reference (no account has id 0): the same queries either way.
  const held = await userHoldsAccount(db, user.id, known?.id ?? 0);
  if (known && held) return { ok: false, reason: 'already_held', account: known };

  const check = await checkAccessCode(ctx, { reference, code, action: 'attach.code', userId: user.id });
  if (!check.ok) return { ok: false, reason: 'refused', lockedUntil: check.lockedUntil };
  const { account, codeHash } = check;
  const now = ctx.now();
  const agency = await ctx.agency.get();
  const done = await inTransaction(ctx, async (tx) => {
    const trx = tx.db;
    if (await userHoldsAccount(trx, user.id, account.id)) return 'already_held' as const;
    if (!(await markCodeUsed(trx, account.id, now, codeHash))) return 'refused' as const;
    await linkAccount(trx, user.id, account.id, now);
    await securityEvent(tx, {
      action: 'attach',
      outcome: 'success',
      userId: user.id,
      accountId: account.id,
      details: { reference: account.reference },
    });
    await queueAttachNotices(trx, agency, account, user, now);
    return 'ok' as const;
  });
  if (done === 'already_held') return { ok: false, reason: 'already_held', account };
  if (done === 'refused') return { ok: false, reason: 'refused', lockedUntil: null };
  return { ok: true, account };
}

/** "Claire M.": enough for a co-holder to recognise the person, no more. */
export function shortName(firstName: string, lastName: string): string {
  const initial = [...lastName.trim()][0];
  return initial ? `${firstName.trim()} ${initial.toUpperCase()}.` : firstName.trim();
}

/**
 * Everyone who already held the account learns who added it to their space (attach or
 * claim) and when; queued in that change's transaction.
 */
async function queueAttachNotices(
  trx: Db,
  agency: Agency,
  account: ClientAccount,
  newcomer: { id: number; firstName: string; lastName: string },
  now: Date,
): Promise<void> {
  const holders = (await holdersOfAccount(trx, account.id)).filter((h) => h.id !== newcomer.id);
  if (holders.length === 0) return;
  const contact = [
    agency.phone ? `par téléphone au ${agency.phone}` : null,
    agency.email ? `par email à ${agency.email}` : null,
  ]
    .filter(Boolean)
    .join(' ou ');
  for (const h of holders) {
    await enqueueMail(
      trx,
      renderMail(agency, {
        to: h.email,
        subject: 'Un compte a été rattaché à un autre espace client',
        greeting: greetingFor(h),
        paragraphs: [
          `Un compte a été rattaché à un autre espace client : le compte ${accountTitle(account)}, que vous suivez dans votre espace, a été ajouté le ${formatInstantLong(now.toISOString())} à l’espace de ${h.email_verified_at ? shortName(newcomer.firstName, newcomer.lastName) : 'une autre personne'}, avec le mot de passe imprimé sur l’appel de fonds.`,
          'Cette personne voit désormais la situation de ce compte (solde, extrait de compte, documents).',
        ],
        after: [
          `Si vous ne vous y attendiez pas, contactez l’agence${contact ? ` ${contact}` : ''} : elle pourra retirer ce rattachement.`,
        ],
      }),
      now,
    );
  }
}
