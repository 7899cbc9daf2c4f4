/**
 * Settings rows whose value changes whenever some data changes: what each instance keys its
 * in-memory copies by (statements, balances, pages). Read with the session, they cost no
 * query of their own.
 * - ledger: moved by every import that writes ledger lines (bumpLedgerVersion);
 * - clientData: moved by the database itself (triggers) on every write to accounts, their
 *   holders, buildings, lots and documents.
 */
export const LEDGER_VERSION_KEY = 'ledger_version';
export const CLIENT_DATA_VERSION_KEY = 'client_data_version';

export interface DataVersions {
  ledger: string | null;
  clientData: string | null;
}
