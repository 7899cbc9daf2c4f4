import { enqueueMail } from '../../adapters/mailer/outbox.ts';
import { renderMail } from '../../adapters/mailer/templates.tsx';
import { auditOperation, securityEvent } from '../../core/audit.ts';
import { clientId, inTransaction, type Ctx } from '../../core/context.ts';
import { formatInstantLong, todayInParis } from '../../core/format.ts';
import { LIMITS, clearAttempts } from '../../core/security/attempts.ts';
import { endAllSessions } from '../../core/sessions/sessions.ts';
import { kindLabel } from '../accounts/accounts.presenter.ts';
import { lotsOfAccounts } from '../accounts/accounts.repository.ts';
import { findUserById, normalizeEmail } from '../users/users.repository.ts';
import { checkCurrentPassword, loadUser, type FormResult } from '../profile/profile.service.ts';
import {
  actionLabel,
  outcomeLabel,
  personalDataCsv,
  personalDataFileName,
  personalDataJson,
  type ExportFormat,
  type PersonalData,
  type PersonalDataFile,
} from './privacy.presenter.ts';
import {
  anonymiseUser,
  auditEventsOf,
  contactChangesBy,
  deleteAllTokens,
  linkedAccountsOf,
  messagesBy,
  sessionsOf,
  unlinkAccounts,
} from './privacy.repository.ts';

function parseJson(raw: string): Record<string, string | null> {
  try {
    const v: unknown = JSON.parse(raw);
    return v && typeof v === 'object' ? (v as Record<string, string | null>) : {};
  } catch {
    return {};
  }
}

/**
 * Whose data: a client only ever their own; the agency (back office, CLI) names the person.
 */
function subjectOf(ctx: Ctx, userId: number | undefined): number {
  if (ctx.actor.kind === 'client') {
    if (userId !== undefined && userId !== ctx.actor.userId) throw new Error('a client exports only their own data');
    return clientId(ctx);
  }
  if (userId === undefined) throw new Error(`personal data export by ${ctx.actor.kind} needs a user id`);
  return userId;
}

/** Everything Palier holds about a person, gathered for them. */
export async function collectPersonalData(ctx: Ctx, userId: number): Promise<PersonalData> {
  const { db } = ctx;
  const user = await findUserById(db, userId);
  if (!user) throw new Error(`user ${userId} not found`);
  const [accounts, changes, messages, sessions, events, agency] = await Promise.all([
    linkedAccountsOf(db, userId),
    contactChangesBy(db, userId),
    messagesBy(db, userId),
    sessionsOf(db, userId),
    auditEventsOf(db, userId),
    ctx.agency.get(),
  ]);
  const lots = await lotsOfAccounts(
    db,
    accounts.map((a) => a.id),
  );
  return {
    export: { application: 'Palier', agence: agency.name, exporte_le: ctx.now().toISOString() },
    profil: {
      civilite: user.civility,
      nom: user.last_name,
      prenom: user.first_name,
      email: user.email,
      email_confirme_le: user.email_verified_at,
      telephone: user.phone,
      adresse: user.address,
      code_postal: user.postal_code,
      ville: user.city,
      cree_le: user.created_at,
      modifie_le: user.updated_at,
    },
    comptes: accounts.map((a) => ({
      reference: a.reference,
      type: kindLabel(a.kind),
      immeuble: a.building_code ? { code: a.building_code, nom: a.building_name ?? '' } : null,
      lots: lots
        .filter((l) => l.account_id === a.id)
        .map((l) => ({ numero: l.number, type: l.type, description: l.description })),
      lie_le: a.linked_at,
    })),
    changements_de_coordonnees: changes.map((c) => ({
      compte: c.reference,
      date: c.changed_at,
      avant: parseJson(c.before_json),
      apres: parseJson(c.after_json),
    })),
    messages: messages.map((m) => ({ compte: m.reference, date: m.created_at, objet: m.subject, texte: m.body })),
    sessions: sessions.map((s) => ({
      ouverte_le: s.created_at,
      derniere_activite: s.last_seen_at,
      expire_le: s.expires_at,
      adresse_ip: s.ip,
      navigateur: s.user_agent,
    })),
    evenements_de_securite: events.map((e) => ({
      date: e.at,
      action: e.action,
      libelle: actionLabel(e.action),
      resultat: outcomeLabel(e.outcome),
      adresse_ip: e.ip,
    })),
  };
}

/**
 * The file « Télécharger mes données » gives: for a client, their own data; for the agency
 * (later, the back office), the person it names. Each export is in the audit log.
 */
export async function exportPersonalData(
  ctx: Ctx,
  opts: { format: ExportFormat; userId?: number },
): Promise<PersonalDataFile> {
  const userId = subjectOf(ctx, opts.userId);
  const data = await collectPersonalData(ctx, userId);
  const event = {
    action: 'personal_data.export',
    outcome: 'success' as const,
    userId,
    details: { format: opts.format },
  };
  if (ctx.actor.kind === 'client') await securityEvent(ctx, event);
  else await auditOperation(ctx, event);
  const fileName = personalDataFileName(todayInParis(ctx.now()), opts.format);
  return opts.format === 'json'
    ? { fileName, contentType: 'application/json; charset=utf-8', body: personalDataJson(data) }
    : { fileName, contentType: 'text/csv; charset=utf-8', body: personalDataCsv(data) };
}

/**
 * « Fermer mon espace client », confirmed with the current password (counted like every
 * current-password check). Ends every session and link, unlinks the accounts (the agency can
 * hand a new code to whoever holds them next), and empties the person's row; the accounts,
 * ledgers, contact changes and messages stay with the agency. The address gets a notice.
 */
export async function closeSpace(ctx: Ctx, input: { password: string }): Promise<FormResult> {
  const user = await loadUser(ctx);
  const check = await checkCurrentPassword(ctx, user, input.password, 'space.close', 'password');
  if (!check.ok) return check;

  const now = ctx.now();
  const agency = await ctx.agency.get();
  // Neutral on purpose: a name typed into the space is not repeated in a mail about its deletion.
  const notice = renderMail(agency, {
    to: user.email,
    subject: 'Votre espace client est fermé',
    greeting: 'Bonjour,',
    paragraphs: [
      `L’espace client ouvert avec cette adresse email a été fermé à votre demande le ${formatInstantLong(now.toISOString())}. Il n’est plus possible de s’y connecter, et les informations personnelles qu’il contenait ont été effacées.`,
      'Vos comptes, leurs extraits et leurs documents restent tenus par l’agence, comme ceux de tout client. Pour ouvrir un nouvel espace plus tard, demandez à l’agence un nouveau code d’accès.',
    ],
    after: ['Si vous n’êtes pas à l’origine de cette fermeture, contactez l’agence sans attendre.'],
  });
  const closed = await inTransaction(ctx, async (tx) => {
    // Only one of two concurrent closings gets here with the row still open.
    if (!(await anonymiseUser(tx.db, user.id, now))) return false;
    await endAllSessions(tx, user.id);
    await deleteAllTokens(tx.db, user.id);
    const accounts = await unlinkAccounts(tx.db, user.id);
    await enqueueMail(tx.db, notice, now);
    // The user id only: the row it points to no longer says who it was.
    await securityEvent(tx, { action: 'space.close', outcome: 'success', userId: user.id, details: { accounts } });
    return true;
  });
  if (closed) {
    // Those counters are keyed by the address, which Palier no longer keeps.
    const email = normalizeEmail(user.email);
    for (const limit of [LIMITS.loginPerEmail, LIMITS.resetPerEmail, LIMITS.newPasswordPerEmail]) {
      await clearAttempts(ctx.db, limit, email);
    }
  }
  return { ok: true };
}
