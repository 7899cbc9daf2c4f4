import { enqueueMail } from '../../adapters/mailer/outbox.ts';
import { renderMail } from '../../adapters/mailer/templates.tsx';
import { securityEvent } from '../../core/audit.ts';
import { clientId, inTransaction, type Ctx } from '../../core/context.ts';
import type { ClientAccount } from '../../db/schema.ts';
import { findUserById } from '../users/users.repository.ts';
import { auditOperation } from '../../core/audit.ts';
import type { Db } from '../../db/db.ts';
import {
  ACCOUNT_CONTACT_COLUMNS,
  contactChangesOf,
  deletePendingFields,
  insertContactChange,
  insertPendingField,
  listPendingFields,
  pendingFieldsOfAccount,
  updateAccountContact,
  updatePendingField,
  type AccountContact,
  type AccountContactColumn,
} from './accounts.repository.ts';
import { COLUMN_LABELS, accountTitle, contactValue, personName } from './accounts.presenter.ts';
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
  country: 'country',
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
          ...diff.changed.map(
            (c) => `${COLUMN_LABELS[c]} : ${contactValue(c, diff.before[c])} → ${contactValue(c, diff.after[c])}`,
          ),
          'Reportez ces corrections dans le logiciel de l’agence : d’ici là, l’import du référentiel laisse ces champs tels que le client les a corrigés.',
        ],
      })
    : null;

  await inTransaction(ctx, async (tx) => {
    const trx = tx.db;
    await updateAccountContact(trx, account.id, diff.after, now);
    const change = await insertContactChange(trx, {
      accountId: account.id,
      userId: user.id,
      before: diff.before,
      after: diff.after,
      now,
    });
    await recordPendingFields(trx, account.id, diff, change.id, now);
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

/** Labels of the account's fields whose correction the agency has not taken in yet, in form order. */
export async function pendingFieldLabels(ctx: Ctx, accountId: number): Promise<string[]> {
  const rows = await pendingFieldsOfAccount(ctx.db, accountId);
  return ACCOUNT_CONTACT_COLUMNS.filter((c) => rows.some((r) => r.field === c)).map((c) => COLUMN_LABELS[c]);
}

/** The changes made to an account's contact details, newest first. */
export function contactHistory(ctx: Ctx, accountId: number) {
  return contactChangesOf(ctx.db, accountId);
}

/**
 * Each corrected field stays pending until the agency takes it in, so that the next
 * référentiel import does not put the old value back. The agency's value is the one before
 * the first pending correction: a field corrected back to it is no longer pending.
 */
async function recordPendingFields(
  db: Db,
  accountId: number,
  diff: ReturnType<typeof diffContact>,
  changeId: number,
  now: Date,
): Promise<void> {
  const pending = new Map((await pendingFieldsOfAccount(db, accountId)).map((p) => [p.field, p]));
  for (const field of diff.changed) {
    const value = diff.after[field] ?? null;
    const known = pending.get(field);
    const changed_at = now.toISOString();
    if (!known) {
      const old_value = diff.before[field] ?? null;
      await insertPendingField(db, {
        account_id: accountId,
        field,
        old_value,
        new_value: value,
        change_id: changeId,
        changed_at,
      });
    } else if ((known.old_value ?? '') === (value ?? '')) {
      await deletePendingFields(db, [{ account_id: accountId, field }]);
    } else {
      await updatePendingField(
        db,
        { account_id: accountId, field },
        { new_value: value, change_id: changeId, changed_at },
      );
    }
  }
}

/** A client's correction of one field that the agency has not taken in yet. */
export interface PendingContactChange {
  accountId: number;
  reference: string;
  field: AccountContactColumn;
  oldValue: string | null;
  newValue: string | null;
  changedAt: string;
  changeId: number;
  /** "Paul DURAND (paul.durand@exemple.fr)". */
  client: string;
}

const isContactColumn = (f: string): f is AccountContactColumn =>
  (ACCOUNT_CONTACT_COLUMNS as readonly string[]).includes(f);

/** Every pending correction, oldest first. */
export async function pendingContactChanges(ctx: Ctx): Promise<PendingContactChange[]> {
  const rows = await listPendingFields(ctx.db);
  return rows
    .filter((r) => isContactColumn(r.field))
    .map((r) => ({
      accountId: r.account_id,
      reference: r.reference,
      field: r.field as AccountContactColumn,
      oldValue: r.old_value,
      newValue: r.new_value,
      changedAt: r.changed_at,
      changeId: r.change_id,
      client: `${personName(r)} (${r.email})`,
    }));
}

/**
 * The agency has carried these corrections into its software: the next import may change
 * the fields again. A field corrected again since it was listed stays pending (its newer
 * correction has not been seen). Returns how many became handled; audited.
 */
export async function markContactChangesHandled(
  ctx: Ctx,
  changes: Pick<PendingContactChange, 'accountId' | 'field' | 'changeId' | 'reference'>[],
): Promise<number> {
  return inTransaction(ctx, (tx) => markHandled(tx, changes));
}

/** markContactChangesHandled within a transaction already open. */
async function markHandled(
  tx: Ctx,
  changes: Pick<PendingContactChange, 'accountId' | 'field' | 'changeId' | 'reference'>[],
): Promise<number> {
  const handled = await deletePendingFields(
    tx.db,
    changes.map((c) => ({ account_id: c.accountId, field: c.field, change_id: c.changeId })),
  );
  await auditOperation(tx, {
    action: 'contact_changes.handled',
    outcome: 'success',
    details: {
      count: handled,
      changes: changes.map((c) => ({ reference: c.reference, field: c.field, changeId: c.changeId })),
    },
  });
  return handled;
}

/**
 * The pending corrections for the agency (`coordonnees export`), audited; with
 * `markHandled`, those listed become handled in the same transaction — only once `write`
 * has stored them: a file that cannot be written must not lose the list.
 */
export async function exportPendingContactChanges(
  ctx: Ctx,
  options: { markHandled: boolean; write?: (changes: PendingContactChange[]) => void | Promise<void> },
): Promise<{ changes: PendingContactChange[]; handled: number }> {
  return inTransaction(ctx, async (tx) => {
    const changes = await pendingContactChanges(tx);
    await options.write?.(changes);
    await auditOperation(tx, {
      action: 'contact_changes.export',
      outcome: 'success',
      details: { count: changes.length, markHandled: options.markHandled },
    });
    const handled = options.markHandled && changes.length > 0 ? await markHandled(tx, changes) : 0;
    return { changes, handled };
  });
}
