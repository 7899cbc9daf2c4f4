import type { AccountKind, CouncilRole } from '../../db/schema.ts';
import {
  isAcceptableImportedCode,
  MIN_IMPORTED_CODE_LENGTH,
  normalizeAccessCode,
} from '../../core/security/access-code.ts';
import { normalizeBic, normalizeIban } from '../agency/agency.service.ts';
import { normalizeCountry } from '../accounts/coordinates.schemas.ts';
import { readCsv, type CsvRow } from './csv.ts';
import { Columns, fold, isValidEmail } from './fields.ts';
import { IssueCollector } from './import-error.ts';

/**
 * The "référentiel" file: one row per (account, lot), columns in any order.
 *
 * Header rules:
 * - `type`, `reference` and `nom` are required;
 * - any `immeuble_*` column, `lot_numero` or `conseil_syndical` requires `immeuble_code`;
 * - `lot_type`, `lot_description` and `tantiemes` require `lot_numero`;
 * - `gestionnaire_nom` and `gestionnaire_telephone` require `gestionnaire_email`
 *   (a gestionnaire is identified by email);
 * - any other column is refused, so a misspelt column never goes unnoticed.
 *
 * An optional column absent from the header leaves the stored value untouched; present
 * but empty, it clears it (the file is the agency's truth for the accounts it lists).
 * Rows of the same reference must agree on every account column; rows describing the
 * same lot must agree on its type, description and tantièmes; building and gestionnaire
 * details may be left empty on some rows but must not differ where given. A new building
 * without `immeuble_nom` is named after its code, a new gestionnaire without
 * `gestionnaire_nom` after its email; existing names are kept when the file gives none.
 */
export const REFERENTIEL_COLUMNS = [
  'type',
  'reference',
  'code_acces',
  'civilite',
  'nom',
  'prenom',
  'email',
  'telephone',
  'adresse',
  'code_postal',
  'ville',
  'immeuble_code',
  'immeuble_nom',
  'immeuble_adresse',
  'immeuble_code_postal',
  'immeuble_ville',
  'immeuble_iban',
  'immeuble_bic',
  'lot_numero',
  'lot_type',
  'lot_description',
  'tantiemes',
  'conseil_syndical',
  'gestionnaire_nom',
  'gestionnaire_email',
  'gestionnaire_telephone',
  'compte_comptable',
  'pays',
] as const;
export type ReferentielColumn = (typeof REFERENTIEL_COLUMNS)[number];

/** Account columns, each stored in one client_accounts field (or a reference to one). */
export const ACCOUNT_COLUMNS = [
  'type',
  'civilite',
  'nom',
  'prenom',
  'email',
  'telephone',
  'adresse',
  'code_postal',
  'ville',
  'immeuble_code',
  'conseil_syndical',
  'gestionnaire_email',
  'code_acces',
  'compte_comptable',
  'pays',
] as const satisfies readonly ReferentielColumn[];
type AccountColumn = (typeof ACCOUNT_COLUMNS)[number];

const BUILDING_COLUMNS = [
  'immeuble_nom',
  'immeuble_adresse',
  'immeuble_code_postal',
  'immeuble_ville',
  'immeuble_iban',
  'immeuble_bic',
] as const;
const LOT_COLUMNS = ['lot_type', 'lot_description', 'tantiemes'] as const;
const MANAGER_COLUMNS = ['gestionnaire_nom', 'gestionnaire_telephone'] as const;

const MAX_LENGTH = 255;
const MAX_REFERENCE_LENGTH = 50;
/**
 * "11111111" or "abababab" is long enough yet guessed in a few tries: a code printed by the
 * agency's software must vary as much as a short word. Counted once spaces, dashes and case
 * are set aside, as the code is typed.
 */
const MIN_DISTINCT_CODE_CHARACTERS = 6;

export interface ParsedAccount {
  line: number;
  reference: string;
  kind: AccountKind;
  civility: string | null;
  lastName: string;
  firstName: string | null;
  email: string | null;
  phone: string | null;
  address: string | null;
  postalCode: string | null;
  city: string | null;
  /** Null for France (empty or « France » in the file). */
  country: string | null;
  buildingCode: string | null;
  managerEmail: string | null;
  councilRole: CouncilRole | null;
  /** As printed by the agency's software; null when Palier must create one (if none exists). */
  accessCode: string | null;
  /** The co-owner's own general-ledger account in the FEC (CompteNum), for lines without CompAuxNum. */
  ledgerAccount: string | null;
  /** Keys of `lots`, in file order. */
  lotKeys: string[];
}

export interface ParsedBuilding {
  code: string;
  name: string | null;
  address: string | null;
  postalCode: string | null;
  city: string | null;
  /** The syndicat's bank account, normalized (IBAN without spaces, BIC in capitals). */
  iban: string | null;
  bic: string | null;
}

export interface ParsedLot {
  buildingCode: string;
  number: string;
  type: string | null;
  description: string | null;
  shares: number | null;
}

export interface ParsedManager {
  email: string;
  name: string | null;
  phone: string | null;
}

export interface ParsedReferentiel {
  /** Columns of the header: absent ones leave stored values untouched. */
  columns: ReadonlySet<ReferentielColumn>;
  rows: number;
  accounts: Map<string, ParsedAccount>;
  buildings: Map<string, ParsedBuilding>;
  lots: Map<string, ParsedLot>;
  managers: Map<string, ParsedManager>;
}

export function lotKey(buildingCode: string, number: string): string {
  return `${buildingCode}\u0000${number}`;
}

const KINDS: Record<string, AccountKind> = {
  coproprietaire: 'coproprietaire',
  locataire: 'locataire',
  proprietaire: 'proprietaire',
};

const COUNCIL_ROLES: Record<string, CouncilRole | null> = {
  '': null,
  membre: 'membre',
  president: 'president',
  presidente: 'president',
};

/** A plain lookup would find "constructor" or "__proto__" on Object.prototype and take them as values. */
function ownValue<T>(table: Record<string, T>, key: string): T | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}

/** What a row says about its account, compared across rows of the same reference. */
type AccountSignature = Record<AccountColumn, string>;

/** One data row as the readers below see it. */
interface Row {
  line: number;
  /** The trimmed value, '' when the column is absent. */
  get(column: ReferentielColumn): string;
  err(column: ReferentielColumn, message: string): void;
}

/** The checked values of a row that has no error. */
interface RowFields {
  reference: string;
  kind: AccountKind;
  lastName: string;
  email: string;
  accessCode: string;
  councilRole: CouncilRole | null;
  buildingCode: string;
  lotNumber: string;
  shares: number | null;
  managerEmail: string;
}

/** Lines where each detail was first given, to name them when a later row contradicts it. */
type DetailLines = { lines: Partial<Record<string, number>> };

/** What the rows read so far describe. */
interface Collected {
  accounts: Map<string, ParsedAccount>;
  signatures: Map<string, { line: number; values: AccountSignature; raw: AccountSignature }>;
  buildings: Map<string, ParsedBuilding & DetailLines>;
  lots: Map<string, ParsedLot & { line: number }>;
  managers: Map<string, ParsedManager & DetailLines>;
}

export function parseReferentiel(buffer: Buffer): ParsedReferentiel {
  const issues = new IssueCollector();
  const collected: Collected = {
    accounts: new Map(),
    signatures: new Map(),
    buildings: new Map(),
    lots: new Map(),
    managers: new Map(),
  };
  let cols!: Columns<ReferentielColumn>;
  let rows = 0;
  readCsv(buffer, {
    header(header) {
      cols = new Columns(header, REFERENTIEL_COLUMNS, issues);
      checkHeader(cols, issues);
    },
    row(row) {
      rows++;
      readRow(row, cols, issues, collected);
    },
  });
  if (rows === 0) issues.add(1, undefined, 'le fichier ne contient aucune ligne de données.');
  issues.throwIfAny();
  return parsed(cols, rows, collected);
}

function checkHeader(cols: Columns<ReferentielColumn>, issues: IssueCollector): void {
  for (const c of ['type', 'reference', 'nom'] as const) cols.require(c, issues);
  const needs = (column: ReferentielColumn, dependents: readonly ReferentielColumn[]) => {
    const using = dependents.filter((d) => cols.has(d));
    if (using.length > 0) cols.require(column, issues, ` (nécessaire avec « ${using.join(' », « ')} »)`);
  };
  needs('immeuble_code', [...BUILDING_COLUMNS, 'lot_numero', 'conseil_syndical']);
  needs('lot_numero', LOT_COLUMNS);
  needs('gestionnaire_email', MANAGER_COLUMNS);
  issues.throwIfAny();
}

function readRow(csvRow: CsvRow, cols: Columns<ReferentielColumn>, issues: IssueCollector, collected: Collected) {
  if (!cols.checkWidth(csvRow, issues) || !cols.checkCharacters(csvRow, issues)) return;
  const row: Row = {
    line: csvRow.line,
    get: (column) => cols.get(csvRow, column),
    err: (column, message) => issues.add(csvRow.line, column, message),
  };
  const before = issues.total;
  const fields = checkFields(row);
  // A row with an error describes nothing: comparing it with other rows would only add noise.
  if (issues.total > before || !fields) return;
  collectAccount(collected, row, fields, (c) => cols.has(c));
  if (fields.buildingCode !== '') collectBuilding(collected, row, fields.buildingCode);
  if (fields.managerEmail !== '') collectManager(collected, row, fields.managerEmail);
  if (fields.lotNumber !== '' && fields.buildingCode !== '') collectLot(collected, row, fields);
}

/** Checks each value of the row on its own; null when the account cannot be described. */
function checkFields(row: Row): RowFields | null {
  checkLengths(row);
  const reference = required(row, 'reference');
  const kind = readKind(row);
  const lastName = required(row, 'nom');
  const email = readEmail(row);
  const accessCode = readAccessCode(row);
  const councilRole = readCouncilRole(row, kind);
  const buildingCode = readBuildingCode(row);
  const lotNumber = readLotNumber(row);
  const shares = readShares(row);
  const managerEmail = readManagerEmail(row);
  readLedgerAccount(row);
  readBuildingBank(row);
  if (!kind || councilRole === undefined) return null;
  return { reference, kind, lastName, email, accessCode, councilRole, buildingCode, lotNumber, shares, managerEmail };
}

// ---- Values of a row

function checkLengths(row: Row): void {
  for (const c of REFERENTIEL_COLUMNS) {
    const max = c === 'reference' ? MAX_REFERENCE_LENGTH : MAX_LENGTH;
    if (row.get(c).length > max) row.err(c, `valeur trop longue (${max} caractères au plus).`);
  }
}

function required(row: Row, column: ReferentielColumn): string {
  const value = row.get(column);
  if (value === '') row.err(column, 'valeur obligatoire.');
  return value;
}

/** A column that the row's other values depend on: required as soon as one of them is given. */
function requiredWhenUsed(row: Row, column: ReferentielColumn, dependents: readonly ReferentielColumn[]): void {
  const using = dependents.filter((c) => row.get(c) !== '');
  if (using.length > 0) row.err(column, `valeur obligatoire quand « ${using.join(' », « ')} » est renseigné.`);
}

function readKind(row: Row): AccountKind | undefined {
  const raw = row.get('type');
  const kind = ownValue(KINDS, fold(raw).replace(/[-\s]/g, ''));
  if (raw === '') row.err('type', 'valeur obligatoire (copropriétaire, locataire ou propriétaire).');
  else if (!kind) {
    row.err('type', `« ${raw} » n’est pas un type de compte valide (copropriétaire, locataire ou propriétaire).`);
  }
  return kind;
}

function readEmail(row: Row): string {
  const email = row.get('email').toLowerCase();
  if (email !== '' && !isValidEmail(email))
    row.err('email', `« ${row.get('email')} » n’est pas une adresse email valide.`);
  return email;
}

/** The code as the file gives it, '' when none; never echoed in a message (it is a secret). */
function readAccessCode(row: Row): string {
  const code = row.get('code_acces');
  if (code === '') return code;
  if (!isAcceptableImportedCode(code)) {
    row.err('code_acces', `code d’accès trop court (au moins ${MIN_IMPORTED_CODE_LENGTH} lettres ou chiffres).`);
  } else if (new Set(normalizeAccessCode(code)).size < MIN_DISTINCT_CODE_CHARACTERS) {
    row.err('code_acces', `code d’accès trop simple (au moins ${MIN_DISTINCT_CODE_CHARACTERS} caractères différents).`);
  }
  return code;
}

/** undefined when the value is not a council role (null means no seat on the council). */
function readCouncilRole(row: Row, kind: AccountKind | undefined): CouncilRole | null | undefined {
  const raw = row.get('conseil_syndical');
  const role = ownValue(COUNCIL_ROLES, fold(raw));
  if (role === undefined) {
    row.err('conseil_syndical', `« ${raw} » n’est pas valide (vide, membre ou président).`);
  } else if (role !== null && kind && kind !== 'coproprietaire') {
    row.err('conseil_syndical', 'seul un copropriétaire peut siéger au conseil syndical.');
  }
  return role;
}

function readBuildingCode(row: Row): string {
  const code = row.get('immeuble_code');
  if (code === '') requiredWhenUsed(row, 'immeuble_code', [...BUILDING_COLUMNS, 'lot_numero', 'conseil_syndical']);
  return code;
}

/** The syndicat's IBAN and BIC, checked like the agency's (SEPA IBAN with its check digits, BIC of 8 or 11). */
function readBuildingBank(row: Row): void {
  const iban = row.get('immeuble_iban');
  if (iban !== '' && !normalizeIban(iban)) {
    row.err(
      'immeuble_iban',
      `« ${iban} » n’est pas un IBAN valide (pays de la zone SEPA, longueur et clé de contrôle).`,
    );
  }
  const bic = row.get('immeuble_bic');
  if (bic !== '' && !normalizeBic(bic))
    row.err('immeuble_bic', `« ${bic} » n’est pas un BIC valide (8 ou 11 caractères).`);
}

function readLotNumber(row: Row): string {
  const number = row.get('lot_numero');
  if (number === '') requiredWhenUsed(row, 'lot_numero', LOT_COLUMNS);
  return number;
}

function readShares(row: Row): number | null {
  const raw = row.get('tantiemes').replace(/[ \u00a0\u202f]/g, '');
  if (raw === '') return null;
  if (/^\d{1,9}$/.test(raw)) return Number(raw);
  row.err('tantiemes', `« ${row.get('tantiemes')} » n’est pas un nombre entier de tantièmes (0 ou plus).`);
  return null;
}

/** A FEC CompteNum: 3 digits, then digits or letters ("4501002", "450DUP"). */
function readLedgerAccount(row: Row): void {
  const value = row.get('compte_comptable');
  if (value !== '' && !/^\d{3}[0-9A-Za-z]{0,37}$/.test(value)) {
    row.err(
      'compte_comptable',
      `« ${value} » n’est pas un numéro de compte (3 chiffres puis des chiffres ou des lettres, par exemple 4501002).`,
    );
  }
}

function readManagerEmail(row: Row): string {
  const email = row.get('gestionnaire_email').toLowerCase();
  if (email !== '' && !isValidEmail(email)) {
    row.err('gestionnaire_email', `« ${row.get('gestionnaire_email')} » n’est pas une adresse email valide.`);
  } else if (email === '') {
    requiredWhenUsed(row, 'gestionnaire_email', MANAGER_COLUMNS);
  }
  return email;
}

// ---- What the rows describe together

/** The first row of a reference describes its account; the next ones must say the same. */
function collectAccount(
  collected: Collected,
  row: Row,
  fields: RowFields,
  has: (column: ReferentielColumn) => boolean,
): void {
  const { raw, values } = accountSignature(row, fields);
  const seen = collected.signatures.get(fields.reference);
  if (seen) {
    for (const c of ACCOUNT_COLUMNS) {
      if (!has(c) || seen.values[c] === values[c]) continue;
      // An access code is a secret: never echoed in an error message.
      const what = c === 'code_acces' ? 'le code d’accès' : `« ${row.get(c)} »`;
      const was = c === 'code_acces' ? '' : ` (« ${seen.raw[c]} »)`;
      row.err(c, `${what} contredit la ligne ${seen.line} pour le compte « ${fields.reference} »${was}.`);
    }
    return;
  }
  collected.signatures.set(fields.reference, { line: row.line, values, raw });
  collected.accounts.set(fields.reference, parsedAccount(row, fields));
}

/** The account columns as written (`raw`) and as compared (`values`: folded, normalized). */
function accountSignature(row: Row, fields: RowFields): { raw: AccountSignature; values: AccountSignature } {
  const raw = {} as AccountSignature;
  for (const c of ACCOUNT_COLUMNS) raw[c] = row.get(c);
  const values = { ...raw };
  values.type = fields.kind;
  values.email = fields.email;
  values.gestionnaire_email = fields.managerEmail;
  values.conseil_syndical = fields.councilRole ?? '';
  values.code_acces = fields.accessCode === '' ? '' : normalizeAccessCode(fields.accessCode);
  return { raw, values };
}

function parsedAccount(row: Row, fields: RowFields): ParsedAccount {
  return {
    line: row.line,
    reference: fields.reference,
    kind: fields.kind,
    civility: row.get('civilite') || null,
    lastName: fields.lastName,
    firstName: row.get('prenom') || null,
    email: fields.email || null,
    phone: row.get('telephone') || null,
    address: row.get('adresse') || null,
    postalCode: row.get('code_postal') || null,
    city: row.get('ville') || null,
    country: normalizeCountry(row.get('pays')) || null,
    buildingCode: fields.buildingCode || null,
    managerEmail: fields.managerEmail || null,
    councilRole: fields.councilRole,
    accessCode: fields.accessCode || null,
    ledgerAccount: row.get('compte_comptable') || null,
    lotKeys: [],
  };
}

const BUILDING_DETAILS = [
  ['name', 'immeuble_nom'],
  ['address', 'immeuble_adresse'],
  ['postalCode', 'immeuble_code_postal'],
  ['city', 'immeuble_ville'],
] as const;

function collectBuilding(collected: Collected, row: Row, code: string): void {
  const building = collected.buildings.get(code) ?? {
    code,
    name: null,
    address: null,
    postalCode: null,
    city: null,
    iban: null,
    bic: null,
    lines: {},
  };
  collected.buildings.set(code, building);
  for (const [field, column] of BUILDING_DETAILS) {
    mergeDetail(building, field, row, column, `l’immeuble « ${code} »`);
  }
  // Compared once normalized: "FR76 3000 …" on one row and "FR763000…" on another agree.
  mergeDetail(building, 'iban', row, 'immeuble_iban', `l’immeuble « ${code} »`, normalizeIban);
  mergeDetail(building, 'bic', row, 'immeuble_bic', `l’immeuble « ${code} »`, normalizeBic);
}

const MANAGER_DETAILS = [
  ['name', 'gestionnaire_nom'],
  ['phone', 'gestionnaire_telephone'],
] as const;

function collectManager(collected: Collected, row: Row, email: string): void {
  const manager = collected.managers.get(email) ?? { email, name: null, phone: null, lines: {} };
  collected.managers.set(email, manager);
  for (const [field, column] of MANAGER_DETAILS) {
    mergeDetail(manager, field, row, column, `le gestionnaire « ${email} »`);
  }
}

const LOT_DETAILS = [
  ['type', 'lot_type'],
  ['description', 'lot_description'],
  ['shares', 'tantiemes'],
] as const;

/** Every row describing a lot must say the same of it; the lot joins the row's account. */
function collectLot(collected: Collected, row: Row, fields: RowFields): void {
  const { buildingCode, lotNumber } = fields;
  const key = lotKey(buildingCode, lotNumber);
  const lot: ParsedLot & { line: number } = {
    line: row.line,
    buildingCode,
    number: lotNumber,
    type: row.get('lot_type') || null,
    description: row.get('lot_description') || null,
    shares: fields.shares,
  };
  const known = collected.lots.get(key);
  if (!known) collected.lots.set(key, lot);
  else {
    for (const [field, column] of LOT_DETAILS) {
      if (known[field] === lot[field]) continue;
      row.err(
        column,
        `« ${row.get(column)} » contredit la ligne ${known.line} pour le lot « ${lotNumber} » de l’immeuble « ${buildingCode} » (« ${known[field] ?? ''} »).`,
      );
    }
  }
  const account = collected.accounts.get(fields.reference);
  if (account && !account.lotKeys.includes(key)) account.lotKeys.push(key);
}

/** Building and gestionnaire details may be omitted on some rows, never contradicted. */
function mergeDetail<F extends string>(
  target: { [K in F]: string | null } & DetailLines,
  field: F,
  row: Row,
  column: ReferentielColumn,
  what: string,
  normalize?: (raw: string) => string | null,
): void {
  const raw = row.get(column);
  // An invalid value was reported by the row's own checks.
  const value = raw === '' || !normalize ? raw : normalize(raw);
  if (!value) return;
  const current = target[field];
  if (current === null) {
    (target as Record<F, string | null>)[field] = value;
    target.lines[field] = row.line;
  } else if (current !== value) {
    row.err(column, `« ${raw} » contredit la ligne ${target.lines[field]} pour ${what} (« ${current} »).`);
  }
}

/** The collected descriptions, without the lines kept to report contradictions. */
function parsed(cols: Columns<ReferentielColumn>, rows: number, collected: Collected): ParsedReferentiel {
  return {
    columns: new Set(REFERENTIEL_COLUMNS.filter((c) => cols.has(c))),
    rows,
    accounts: collected.accounts,
    buildings: new Map([...collected.buildings].map(([k, { lines: _lines, ...b }]) => [k, b])),
    lots: new Map([...collected.lots].map(([k, { line: _line, ...l }]) => [k, l])),
    managers: new Map([...collected.managers].map(([k, { lines: _lines, ...m }]) => [k, m])),
  };
}
