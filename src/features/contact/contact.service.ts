import type { FastifyInstance, FastifyRequest } from 'fastify';
import { enqueueMail } from '../../adapters/mailer/outbox.ts';
import { greeting, renderMail } from '../../adapters/mailer/templates.tsx';
import { writeAudit } from '../../core/audit.ts';
import { agencyOf } from '../../core/http/render.ts';
import type { SessionUser } from '../../core/http/session.ts';
import { LIMITS, lockedUntil, recordAttempt } from '../../core/security/attempts.ts';
import type { ClientAccount, Manager } from '../../db/schema.ts';
import { accountsOfUser, findBuilding, findManager } from '../accounts/accounts.repository.ts';
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
export async function sendMessage(
  app: FastifyInstance,
  req: FastifyRequest,
  account: ClientAccount,
  user: SessionUser,
  input: MessageInput,
): Promise<SendResult> {
  const { db } = app.deps;
  const now = app.deps.now();
  const key = String(user.id);
  const until = await lockedUntil(db, LIMITS.messagePerUser, key, now);
  if (until) {
    req.log.warn({ event: 'message.limited', userId: user.id }, 'message limit reached');
    return { ok: false, lockedUntil: until };
  }

  const manager = await findManager(db, account.manager_id);
  const agency = await agencyOf(req);
  const recipient = manager ? manager.name : agency.configured ? `l’agence ${agency.name}` : 'l’agence';
  const to = manager?.email ?? agency.email;
  const building = await findBuilding(db, account.building_id);
  const person = await findUserById(db, user.id);
  const clientName = [user.firstName, user.lastName].filter(Boolean).join(' ');
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
          greeting: greeting(person?.civility, user.firstName, user.lastName),
          paragraphs: [
            `Votre message au sujet du compte ${about} a bien été transmis à ${recipient}, qui vous répondra à cette adresse.`,
            'Pour mémoire, voici ce que vous avez écrit :',
            `Objet : ${input.subject}`,
            ...lines(input.body),
          ],
        }),
      ]
    : [];

  const messageId = await db.transaction().execute(async (trx) => {
    const id = await insertMessage(trx, {
      accountId: account.id,
      userId: user.id,
      managerId: manager?.id ?? null,
      subject: input.subject,
      body: input.body,
      now,
    });
    await recordAttempt(trx, LIMITS.messagePerUser, key, now);
    await writeAudit(trx, {
      action: 'message.send',
      outcome: 'success',
      userId: user.id,
      accountId: account.id,
      ip: req.ip,
      details: { messageId: id, managerId: manager?.id ?? null },
      at: now,
    });
    for (const m of mails) await enqueueMail(trx, m, now);
    return id;
  });

  if (!to) {
    req.log.warn({ messageId }, 'message stored but nobody to mail: no gestionnaire and no agency email');
    return { ok: true, recipient, mailed: false };
  }
  return { ok: true, recipient, mailed: true };
}

export interface DirectoryGroup {
  manager: Pick<Manager, 'name' | 'email' | 'phone'> | null;
  accounts: { id: number; title: string; reference: string; buildingName: string | null }[];
}

/** The person's accounts grouped by gestionnaire (by name), accounts without one last. */
export async function contactDirectory(app: FastifyInstance, userId: number): Promise<DirectoryGroup[]> {
  const { db } = app.deps;
  const accounts = await accountsOfUser(db, userId);
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
