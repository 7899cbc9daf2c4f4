import { enqueueMail } from '../../adapters/mailer/outbox.ts';
import { greeting, renderMail } from '../../adapters/mailer/templates.tsx';
import { securityEvent } from '../../core/audit.ts';
import { clientId, inTransaction, type Ctx } from '../../core/context.ts';
import { LIMITS, takeAttempt } from '../../core/security/attempts.ts';
import type { Manager } from '../../db/schema.ts';
import { accountsOfUser } from '../accounts/accounts.repository.ts';
import type { AccountContext } from '../accounts/accounts.service.ts';
import { accountTitle } from '../accounts/accounts.presenter.ts';
import { findUserById } from '../users/users.repository.ts';
import { buildingsByIds, insertMessage, managersByIds } from './contact.repository.ts';
import type { MessageInput } from './contact.schemas.ts';

/** A message's lines as mail paragraphs (the mail template has no preformatted text). */
function lines(body: string): string[] {
  return body
    .split('\n')
    .map((l) => l.trimEnd())
    .filter((l) => l.trim() !== '');
}

export type SendResult = { ok: false; lockedUntil: Date } | { ok: true; recipient: string; mailed: boolean };

/**
 * Stores the message (with its audit event) and, in the same transaction, puts in the
 * outbox its mail to the account's gestionnaire (or the agency when there is none, with
 * the account reference and the client's address as Reply-To) and the acknowledgement to
 * the client. `mailed` is false only when there is nobody to mail. At most
 * LIMITS.messagePerUser an hour.
 */
export async function sendMessage(ctx: Ctx, target: AccountContext, input: MessageInput): Promise<SendResult> {
  const { db } = ctx;
  const now = ctx.now();
  const { account, building } = target;
  const person = await findUserById(db, clientId(ctx));
  if (!person) throw new Error('user of a live session not found');
  const user = { id: person.id, email: person.email, firstName: person.first_name, lastName: person.last_name };
  // Counted before anything is stored: parallel posts each see the others' rows.
  const taken = await takeAttempt(db, LIMITS.messagePerUser, String(user.id), now);
  if (!taken.taken) {
    await securityEvent(ctx, { action: 'message.send', outcome: 'denied', details: { reason: 'limited' } });
    return { ok: false, lockedUntil: taken.lockedUntil };
  }

  const manager = target.manager;
  const agency = await ctx.agency.get();
  const recipient = manager ? manager.name : agency.configured ? `l’agence ${agency.name}` : 'l’agence';
  const to = manager?.email ?? agency.email;
  const clientName = [user.firstName, user.lastName].filter(Boolean).join(' ');
  // An address not proved yet gets no text its requester typed: only that the message left.
  const echoText = person.email_verified_at !== null;
  const about = `${accountTitle(account)}${building ? ` (${building.name})` : ''}`;
  const mails = to
    ? [
        renderMail(agency, {
          to,
          replyTo: user.email,
          subject: `Message de ${clientName} – compte ${account.reference} : ${input.subject}`,
          greeting: manager ? `Bonjour ${manager.name},` : 'Bonjour,',
          paragraphs: [
            `${clientName} (${user.email}) vous écrit depuis son espace client au sujet du compte ${about}.`,
            `Objet : ${input.subject}`,
            ...lines(input.body),
          ],
          after: [`Répondez simplement à ce message : votre réponse partira à ${user.email}.`],
        }),
        renderMail(agency, {
          to: user.email,
          subject: `Votre message au sujet du compte ${account.reference}`,
          greeting: echoText ? greeting(person.civility, user.firstName, user.lastName) : 'Bonjour,',
          paragraphs: echoText
            ? [
                `Votre message au sujet du compte ${about} a bien été transmis à ${recipient}, qui vous répondra à cette adresse.`,
                'Pour mémoire, voici ce que vous avez écrit :',
                `Objet : ${input.subject}`,
                ...lines(input.body),
              ]
            : [
                `Votre message au sujet du compte ${account.reference} a bien été transmis à l’agence, qui vous répondra à cette adresse.`,
              ],
        }),
      ]
    : [];

  const messageId = await inTransaction(ctx, async (tx) => {
    const trx = tx.db;
    const id = await insertMessage(trx, {
      accountId: account.id,
      userId: user.id,
      managerId: account.manager_id,
      subject: input.subject,
      body: input.body,
      now,
    });
    await securityEvent(tx, {
      action: 'message.send',
      outcome: 'success',
      accountId: account.id,
      details: { messageId: id, managerId: account.manager_id },
    });
    for (const m of mails) await enqueueMail(trx, m, now);
    return id;
  });

  if (!to) {
    ctx.log.warn({ messageId }, 'message stored but nobody to mail: no gestionnaire and no agency email');
    return { ok: true, recipient, mailed: false };
  }
  return { ok: true, recipient, mailed: true };
}

export interface DirectoryGroup {
  manager: Pick<Manager, 'name' | 'email' | 'phone'> | null;
  accounts: { id: number; title: string; reference: string; buildingName: string | null }[];
}

/** The person's accounts grouped by gestionnaire (by name), accounts without one last. */
export async function contactDirectory(ctx: Ctx): Promise<DirectoryGroup[]> {
  const { db } = ctx;
  const accounts = await accountsOfUser(db, clientId(ctx));
  const managerIds = [...new Set(accounts.map((a) => a.manager_id).filter((id): id is number => id !== null))];
  const buildingIds = [...new Set(accounts.map((a) => a.building_id).filter((id): id is number => id !== null))];
  const managers = new Map((await managersByIds(db, managerIds)).map((m) => [m.id, m]));
  const buildings = new Map((await buildingsByIds(db, buildingIds)).map((b) => [b.id, b.name]));
  const groups = new Map<number | null, DirectoryGroup>();
  for (const a of accounts) {
    const m = a.manager_id !== null ? managers.get(a.manager_id) : undefined;
    const key = m ? m.id : null;
    let g = groups.get(key);
    if (!g) {
      g = { manager: m ? { name: m.name, email: m.email, phone: m.phone } : null, accounts: [] };
      groups.set(key, g);
    }
    g.accounts.push({
      id: a.id,
      title: accountTitle(a),
      reference: a.reference,
      buildingName: a.building_id !== null ? (buildings.get(a.building_id) ?? null) : null,
    });
  }
  const collator = new Intl.Collator('fr', { sensitivity: 'base' });
  return [...groups.values()].sort((x, y) => {
    if (!x.manager) return 1;
    if (!y.manager) return -1;
    return collator.compare(x.manager.name, y.manager.name);
  });
}
