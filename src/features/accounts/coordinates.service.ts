import { enqueueMail } from '../../adapters/mailer/outbox.ts';
import { renderMail } from '../../adapters/mailer/templates.tsx';
import { securityEvent } from '../../core/audit.ts';
import { clientId, inTransaction, type Ctx } from '../../core/context.ts';
import type { ClientAccount } from '../../db/schema.ts';
import { findUserById } from '../users/users.repository.ts';
import {
  ACCOUNT_CONTACT_COLUMNS,
  contactChangesOf,
  insertContactChange,
  updateAccountContact,
  type AccountContact,
  type AccountContactColumn,
} from './accounts.repository.ts';
import { COLUMN_LABELS, accountTitle } from './accounts.presenter.ts';
import type { AccountContext } from './accounts.service.ts';
import type { CoordinatesInput } from './coordinates.schemas.ts';

/** Form field → column of client_accounts. */
const COLUMN_OF: Record<keyof CoordinatesInput, AccountContactColumn> = {
  civility: 'civility',
  lastName: 'last_name',
  firstName: 'first_name',
  email: 'email',
  phone: 'phone',
  address: 'address',
  postalCode: 'postal_code',
  city: 'city',
};

/** The form's values as the account's columns ('' stored as null). */
export function toContact(input: CoordinatesInput): AccountContact {
  const out = {} as AccountContact;
  for (const [field, column] of Object.entries(COLUMN_OF) as [keyof CoordinatesInput, AccountContactColumn][]) {
    const v = input[field].trim();
    out[column] = v === '' ? null : v;
  }
  return out;
}

export function contactOf(account: ClientAccount): AccountContact {
  const out = {} as AccountContact;
  for (const c of ACCOUNT_CONTACT_COLUMNS) out[c] = account[c];
  return out;
}

/** Only the fields that change, before and after. */
export function diffContact(before: AccountContact, after: AccountContact) {
  const b: Partial<AccountContact> = {};
  const a: Partial<AccountContact> = {};
  for (const c of ACCOUNT_CONTACT_COLUMNS) {
    if ((before[c] ?? '') !== (after[c] ?? '')) {
      b[c] = before[c];
      a[c] = after[c];
    }
  }
  return { before: b, after: a, changed: Object.keys(a) as AccountContactColumn[] };
}

export type CorrectionResult = { changed: false } | { changed: true; mailed: boolean };

/**
 * The client corrects the details the agency holds: one transaction writes the new
 * values, the history row, the audit event and, in the outbox, the mail that gives the
 * gestionnaire (or, without one, the agency) the old → new values to carry into the
 * agency's software. `mailed` is false only when there is nobody to mail.
 */
export async function correctCoordinates(
  ctx: Ctx,
  target: AccountContext,
  input: CoordinatesInput,
): Promise<CorrectionResult> {
  const now = ctx.now();
  const { account, building, manager } = target;
  const diff = diffContact(contactOf(account), toContact(input));
  if (diff.changed.length === 0) return { changed: false };

  const person = await findUserById(ctx.db, clientId(ctx));
  if (!person) throw new Error('user of a live session not found');
  const user = { id: person.id, email: person.email, firstName: person.first_name, lastName: person.last_name };
  const agency = await ctx.agency.get();
  const to = manager?.email ?? agency.email;
  const clientName = [user.firstName, user.lastName].filter(Boolean).join(' ');
  const show = (v: string | null | undefined) => (v && v !== '' ? v : '(vide)');
  const notice = to
    ? renderMail(agency, {
        to,
        replyTo: user.email,
        subject: `Coordonnées corrigées – compte ${account.reference}`,
        greeting: manager ? `Bonjour ${manager.name},` : 'Bonjour,',
        paragraphs: [
          `${clientName} (${user.email}) a corrigé depuis son espace client les coordonnées du compte ${accountTitle(account)}${
            building ? ` (${building.name})` : ''
          } :`,
          ...diff.changed.map((c) => `${COLUMN_LABELS[c]} : ${show(diff.before[c])} → ${show(diff.after[c])}`),
          'Reportez ces corrections dans le logiciel de l’agence : sinon, le prochain import du référentiel remettrait les anciennes valeurs.',
        ],
      })
    : null;

  await inTransaction(ctx, async (tx) => {
    const trx = tx.db;
    await updateAccountContact(trx, account.id, diff.after, now);
    await insertContactChange(trx, {
      accountId: account.id,
      userId: user.id,
      before: diff.before,
      after: diff.after,
      now,
    });
    await securityEvent(tx, {
      action: 'account.contact_change',
      outcome: 'success',
      accountId: account.id,
      details: { fields: diff.changed },
    });
    if (notice) await enqueueMail(trx, notice, now);
  });

  if (!notice) {
    ctx.log.warn(
      { accountId: account.id },
      'contact change saved but nobody to mail: no gestionnaire and no agency email',
    );
    return { changed: true, mailed: false };
  }
  return { changed: true, mailed: true };
}

/** The changes made to an account's contact details, newest first. */
export function contactHistory(ctx: Ctx, accountId: number) {
  return contactChangesOf(ctx.db, accountId);
}
