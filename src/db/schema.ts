import type { Generated, Insertable, Selectable, Updateable } from 'kysely';

/**
 * Table types. Dates are ISO strings: calendar dates as YYYY-MM-DD, instants as UTC
 * ISO-8601 (`new Date().toISOString()`), so SQLite and PostgreSQL store the same text.
 * Money is integer cents.
 */
export interface Database {
  settings: SettingsTable;
  managers: ManagersTable;
  buildings: BuildingsTable;
  lots: LotsTable;
  client_accounts: ClientAccountsTable;
  account_lots: AccountLotsTable;
  ledger_entries: LedgerEntriesTable;
  users: UsersTable;
  user_accounts: UserAccountsTable;
  sessions: SessionsTable;
  user_tokens: UserTokensTable;
  claim_tickets: ClaimTicketsTable;
  auth_attempts: AuthAttemptsTable;
  contact_changes: ContactChangesTable;
  pending_contact_fields: PendingContactFieldsTable;
  messages: MessagesTable;
  audit_events: AuditEventsTable;
  payments: PaymentsTable;
  documents: DocumentsTable;
  document_reads: DocumentReadsTable;
}

export type AccountKind = 'coproprietaire' | 'locataire' | 'proprietaire';
export type CouncilRole = 'membre' | 'president';

export interface SettingsTable {
  key: string;
  value: string;
}

/** Gestionnaire: the agency employee in charge of an account. */
export interface ManagersTable {
  id: Generated<number>;
  email: string;
  name: string;
  phone: string | null;
}

export interface BuildingsTable {
  id: Generated<number>;
  code: string;
  name: string;
  address: string | null;
  postal_code: string | null;
  city: string | null;
  /** Bank account of the building's syndicat des copropriétaires (normalized, no spaces). */
  iban: string | null;
  bic: string | null;
}

export interface LotsTable {
  id: Generated<number>;
  building_id: number;
  number: string;
  type: string | null;
  description: string | null;
  /** Tantièmes. */
  shares: number | null;
}

export interface ClientAccountsTable {
  id: Generated<number>;
  reference: string;
  /** referenceKey(reference) (src/db/reference-key.ts), indexed: what step 1 of the claim looks up. */
  reference_key: string;
  kind: AccountKind;
  building_id: number | null;
  manager_id: number | null;
  civility: string | null;
  last_name: string | null;
  first_name: string | null;
  email: string | null;
  phone: string | null;
  address: string | null;
  postal_code: string | null;
  city: string | null;
  council_role: CouncilRole | null;
  /** HMAC of the normalized access code; null when the account has none. */
  access_code_hash: string | null;
  /** AES-GCM ciphertext of codes Palier created, so `codes export` can print them again. */
  access_code_encrypted: string | null;
  access_code_origin: 'palier' | 'import' | null;
  access_code_issued_at: string | null;
  /** Set when the code has claimed or attached the account: codes are single use. */
  access_code_used_at: string | null;
  /** FEC CompteNum of the co-owner's own sub-account, for lines without CompAuxNum (`compte_comptable`). */
  ledger_account: string | null;
  /** Country of the postal address; null is France. */
  country: string | null;
  created_at: string;
  updated_at: string;
}

export interface AccountLotsTable {
  account_id: number;
  lot_id: number;
}

export interface LedgerEntriesTable {
  id: Generated<number>;
  account_id: number;
  /** Line order within the imported file, to keep same-day lines in file order. */
  position: number;
  entry_date: string;
  label: string;
  debit_cents: number;
  credit_cents: number;
  piece: string | null;
  /** 1 for an à-nouveau: it carries the balance of every line dated before it, which it supersedes. */
  opening: Generated<number>;
}

export interface UsersTable {
  id: Generated<number>;
  email: string;
  email_verified_at: string | null;
  password_hash: string;
  civility: string | null;
  last_name: string;
  first_name: string;
  phone: string | null;
  address: string | null;
  postal_code: string | null;
  city: string | null;
  /** Country of the postal address; null is France. */
  country: string | null;
  created_at: string;
  updated_at: string;
  /** « Recevoir un email quand un nouveau document est publié »: null (default) off, else since when. */
  document_notice_since: string | null;
  /** When the last notice of new documents was queued (one a day at most). */
  document_notice_sent_at: string | null;
  /** Set when the person closed their space: the row is then emptied of personal data (no login, no name). */
  closed_at: string | null;
}

export interface UserAccountsTable {
  user_id: number;
  account_id: number;
  linked_at: string;
}

export interface SessionsTable {
  /** SHA-256 of the cookie token: a stolen database does not yield live sessions. */
  id_hash: string;
  user_id: number;
  created_at: string;
  last_seen_at: string;
  expires_at: string;
  ip: string | null;
  user_agent: string | null;
}

export type TokenPurpose = 'reset_password' | 'verify_email' | 'change_email';

export interface UserTokensTable {
  token_hash: string;
  user_id: number;
  purpose: TokenPurpose;
  new_email: string | null;
  created_at: string;
  expires_at: string;
  used_at: string | null;
}

/** Proof that step 1 of "Créez votre espace" succeeded, carried to step 2. */
export interface ClaimTicketsTable {
  token_hash: string;
  account_id: number;
  created_at: string;
  expires_at: string;
}

export interface AuthAttemptsTable {
  id: Generated<number>;
  /** e.g. 'code:reference', 'code:ip', 'login:email', 'login:ip', 'reset:email'. */
  scope: string;
  key: string;
  created_at: string;
}

export interface ContactChangesTable {
  id: Generated<number>;
  account_id: number;
  user_id: number;
  changed_at: string;
  before_json: string;
  after_json: string;
}

/** A client's correction the agency has not taken in yet: the référentiel import leaves the field alone. */
export interface PendingContactFieldsTable {
  account_id: number;
  /** A column of client_accounts (ACCOUNT_CONTACT_COLUMNS). */
  field: string;
  /** The agency's value before the first pending correction. */
  old_value: string | null;
  new_value: string | null;
  /** The latest correction of this field. */
  change_id: number;
  changed_at: string;
}

export interface MessagesTable {
  id: Generated<number>;
  account_id: number;
  user_id: number;
  manager_id: number | null;
  subject: string;
  body: string;
  created_at: string;
}

export interface AuditEventsTable {
  id: Generated<number>;
  at: string;
  action: string;
  outcome: 'success' | 'failure' | 'denied';
  user_id: number | null;
  account_id: number | null;
  ip: string | null;
  details_json: string | null;
}

export type PaymentStatus = 'pending' | 'paid' | 'failed' | 'abandoned';

/** An online payment attempt; the ledger gets its line later, from the accounting import. */
export interface PaymentsTable {
  id: Generated<number>;
  account_id: number;
  user_id: number | null;
  amount_cents: number;
  method: 'card';
  /** Generated by Palier, shown to the person and sent to the provider: matches the ledger line later. */
  reference: string;
  provider_session_id: string | null;
  status: PaymentStatus;
  created_at: string;
  updated_at: string;
}

/** The three spaces of décret 2019-502: one account's, the building's, its conseil syndical's. */
export type DocumentScope = 'account' | 'building' | 'council';

export interface DocumentsTable {
  id: Generated<number>;
  building_id: number;
  scope: DocumentScope;
  /** The account of a private document (scope 'account'); null otherwise. */
  account_id: number | null;
  /** 1 when a building document is also shown to locataires (règlement intérieur…); 0 otherwise. */
  for_tenants: number;
  /** A stable code of src/features/documents/categories.ts. */
  category: string;
  title: string;
  document_date: string;
  size_bytes: number;
  sha256: string;
  storage_key: string;
  /** Judged from the content when stored, never from the name. */
  content_type: string;
  /** The file's name as given to Palier, sanitised: metadata only, never a path. */
  original_name: string;
  published_by: string;
  published_at: string;
  /** Null while current; set when withdrawn or replaced (the row and file stay for history). */
  withdrawn_at: string | null;
  /** On a successor: the document it replaced. */
  replaces_id: number | null;
}

export interface DocumentReadsTable {
  user_id: number;
  document_id: number;
  read_at: string;
}

export type DocumentRow = Selectable<DocumentsTable>;
export type ClientAccount = Selectable<ClientAccountsTable>;
export type NewClientAccount = Insertable<ClientAccountsTable>;
export type ClientAccountUpdate = Updateable<ClientAccountsTable>;
export type User = Selectable<UsersTable>;
export type Building = Selectable<BuildingsTable>;
export type Lot = Selectable<LotsTable>;
export type Manager = Selectable<ManagersTable>;
export type LedgerEntry = Selectable<LedgerEntriesTable>;
