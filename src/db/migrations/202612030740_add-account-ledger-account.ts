import type { Kysely } from 'kysely';

/**
 * The general-ledger account (FEC CompteNum) some accounting software opens for each
 * co-owner instead of an auxiliary account: a FEC line with no CompAuxNum is matched to
 * the client account through it. Set by the référentiel's `compte_comptable` column.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('client_accounts').addColumn('ledger_account', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('client_accounts').dropColumn('ledger_account').execute();
}
