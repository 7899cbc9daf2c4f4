import type { AccountKind, CouncilRole } from '../../db/schema.ts';
import {
  isAcceptableImportedCode,
  MIN_IMPORTED_CODE_LENGTH,
  normalizeAccessCode,
} from '../../core/security/access-code.ts';
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
  'lot_numero',
  'lot_type',
  'lot_description',
  'tantiemes',
  'conseil_syndical',
  'gestionnaire_nom',
  'gestionnaire_email',
  'gestionnaire_telephone',
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
] as const satisfies readonly ReferentielColumn[];
type AccountColumn = (typeof ACCOUNT_COLUMNS)[number];

const BUILDING_COLUMNS = ['immeuble_nom', 'immeuble_adresse', 'immeuble_code_postal', 'immeuble_ville'] as const;
const LOT_COLUMNS = ['lot_type', 'lot_description', 'tantiemes'] as const;
const MANAGER_COLUMNS = ['gestionnaire_nom', 'gestionnaire_telephone'] as const;

const MAX_LENGTH = 255;
const MAX_REFERENCE_LENGTH = 50;

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
  buildingCode: string | null;
  managerEmail: string | null;
  councilRole: CouncilRole | null;
  /** As printed by the agency's software; null when Palier must create one (if none exists). */
  accessCode: string | null;
  /** Keys of `lots`, in file order. */
  lotKeys: string[];
}

export interface ParsedBuilding {
  code: string;
  name: string | null;
  address: string | null;
  postalCode: string | null;
  city: string | null;
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

/** What a row says about its account, compared across rows of the same reference. */
type AccountSignature = Record<AccountColumn, string>;

export function parseReferentiel(buffer: Buffer): ParsedReferentiel {
  const issues = new IssueCollector();
  let cols!: Columns<ReferentielColumn>;
  const accounts = new Map<string, ParsedAccount>();
  const signatures = new Map<string, { line: number; values: AccountSignature; raw: AccountSignature }>();
  const buildings = new Map<string, ParsedBuilding & { lines: Partial<Record<string, number>> }>();
  const lots = new Map<string, ParsedLot & { line: number }>();
  const managers = new Map<string, ParsedManager & { lines: Partial<Record<string, number>> }>();
  let rows = 0;

  const checkHeader = () => {
    for (const c of ['type', 'reference', 'nom'] as const) cols.require(c, issues);
    const needs = (column: ReferentielColumn, dependents: readonly ReferentielColumn[]) => {
      const using = dependents.filter((d) => cols.has(d));
      if (using.length > 0) cols.require(column, issues, ` (nécessaire avec « ${using.join(' », « ')} »)`);
    };
    needs('immeuble_code', [...BUILDING_COLUMNS, 'lot_numero', 'conseil_syndical']);
    needs('lot_numero', LOT_COLUMNS);
    needs('gestionnaire_email', MANAGER_COLUMNS);
    issues.throwIfAny();
  };

  const onRow = (row: CsvRow) => {
    rows++;
    if (!cols.checkWidth(row, issues) || !cols.checkCharacters(row, issues)) return;
    const before = issues.total;
    const get = (c: ReferentielColumn) => cols.get(row, c);
    const err = (c: ReferentielColumn | undefined, message: string) => issues.add(row.line, c, message);

    for (const c of REFERENTIEL_COLUMNS) {
      const max = c === 'reference' ? MAX_REFERENCE_LENGTH : MAX_LENGTH;
      if (get(c).length > max) err(c, `valeur trop longue (${max} caractères au plus).`);
    }

    const reference = get('reference');
    if (reference === '') err('reference', 'valeur obligatoire.');

    const rawType = get('type');
    const kind = KINDS[fold(rawType).replace(/[-\s]/g, '')];
    if (rawType === '') err('type', 'valeur obligatoire (copropriétaire, locataire ou propriétaire).');
    else if (!kind)
      err('type', `« ${rawType} » n’est pas un type de compte valide (copropriétaire, locataire ou propriétaire).`);

    const lastName = get('nom');
    if (lastName === '') err('nom', 'valeur obligatoire.');

    const email = get('email').toLowerCase();
    if (email !== '' && !isValidEmail(email)) err('email', `« ${get('email')} » n’est pas une adresse email valide.`);

    const accessCode = get('code_acces');
    if (accessCode !== '' && !isAcceptableImportedCode(accessCode)) {
      err('code_acces', `code d’accès trop court (au moins ${MIN_IMPORTED_CODE_LENGTH} lettres ou chiffres).`);
    }

    const rawCouncil = get('conseil_syndical');
    const councilRole = COUNCIL_ROLES[fold(rawCouncil)];
    if (councilRole === undefined) {
      err('conseil_syndical', `« ${rawCouncil} » n’est pas valide (vide, membre ou président).`);
    } else if (councilRole !== null && kind && kind !== 'coproprietaire') {
      err('conseil_syndical', 'seul un copropriétaire peut siéger au conseil syndical.');
    }

    const buildingCode = get('immeuble_code');
    const lotNumber = get('lot_numero');
    if (buildingCode === '') {
      const using = [...BUILDING_COLUMNS, 'lot_numero', 'conseil_syndical'].filter(
        (c) => get(c as ReferentielColumn) !== '',
      );
      if (using.length > 0) err('immeuble_code', `valeur obligatoire quand « ${using.join(' », « ')} » est renseigné.`);
    }
    if (lotNumber === '') {
      const using = LOT_COLUMNS.filter((c) => get(c) !== '');
      if (using.length > 0) err('lot_numero', `valeur obligatoire quand « ${using.join(' », « ')} » est renseigné.`);
    }

    const rawShares = get('tantiemes').replace(/[ \u00a0\u202f]/g, '');
    let shares: number | null = null;
    if (rawShares !== '') {
      if (/^\d{1,9}$/.test(rawShares)) shares = Number(rawShares);
      else err('tantiemes', `« ${get('tantiemes')} » n’est pas un nombre entier de tantièmes (0 ou plus).`);
    }

    const managerEmail = get('gestionnaire_email').toLowerCase();
    if (managerEmail !== '' && !isValidEmail(managerEmail)) {
      err('gestionnaire_email', `« ${get('gestionnaire_email')} » n’est pas une adresse email valide.`);
    } else if (managerEmail === '') {
      const using = MANAGER_COLUMNS.filter((c) => get(c) !== '');
      if (using.length > 0) {
        err('gestionnaire_email', `valeur obligatoire quand « ${using.join(' », « ')} » est renseigné.`);
      }
    }

    if (issues.total > before || !kind || councilRole === undefined) return;

    // The same account on several rows (one per lot) must be described the same way.
    const raw = {} as AccountSignature;
    for (const c of ACCOUNT_COLUMNS) raw[c] = get(c);
    const signature = { ...raw };
    signature.type = kind;
    signature.email = email;
    signature.gestionnaire_email = managerEmail;
    signature.conseil_syndical = councilRole ?? '';
    signature.code_acces = accessCode === '' ? '' : normalizeAccessCode(accessCode);
    const seen = signatures.get(reference);
    if (seen) {
      for (const c of ACCOUNT_COLUMNS) {
        if (!cols.has(c) || seen.values[c] === signature[c]) continue;
        // An access code is a secret: never echoed in an error message.
        const what = c === 'code_acces' ? 'le code d’accès' : `« ${get(c)} »`;
        const was = c === 'code_acces' ? '' : ` (« ${seen.raw[c]} »)`;
        err(c, `${what} contredit la ligne ${seen.line} pour le compte « ${reference} »${was}.`);
      }
    } else {
      signatures.set(reference, { line: row.line, values: signature, raw });
      accounts.set(reference, {
        line: row.line,
        reference,
        kind,
        civility: get('civilite') || null,
        lastName,
        firstName: get('prenom') || null,
        email: email || null,
        phone: get('telephone') || null,
        address: get('adresse') || null,
        postalCode: get('code_postal') || null,
        city: get('ville') || null,
        buildingCode: buildingCode || null,
        managerEmail: managerEmail || null,
        councilRole,
        accessCode: accessCode || null,
        lotKeys: [],
      });
    }

    if (buildingCode !== '') {
      const building = buildings.get(buildingCode) ?? {
        code: buildingCode,
        name: null,
        address: null,
        postalCode: null,
        city: null,
        lines: {},
      };
      buildings.set(buildingCode, building);
      mergeDetail(
        building,
        'name',
        get('immeuble_nom'),
        'immeuble_nom',
        row.line,
        `l’immeuble « ${buildingCode} »`,
        issues,
      );
      mergeDetail(
        building,
        'address',
        get('immeuble_adresse'),
        'immeuble_adresse',
        row.line,
        `l’immeuble « ${buildingCode} »`,
        issues,
      );
      mergeDetail(
        building,
        'postalCode',
        get('immeuble_code_postal'),
        'immeuble_code_postal',
        row.line,
        `l’immeuble « ${buildingCode} »`,
        issues,
      );
      mergeDetail(
        building,
        'city',
        get('immeuble_ville'),
        'immeuble_ville',
        row.line,
        `l’immeuble « ${buildingCode} »`,
        issues,
      );
    }

    if (managerEmail !== '') {
      const manager = managers.get(managerEmail) ?? { email: managerEmail, name: null, phone: null, lines: {} };
      managers.set(managerEmail, manager);
      mergeDetail(
        manager,
        'name',
        get('gestionnaire_nom'),
        'gestionnaire_nom',
        row.line,
        `le gestionnaire « ${managerEmail} »`,
        issues,
      );
      mergeDetail(
        manager,
        'phone',
        get('gestionnaire_telephone'),
        'gestionnaire_telephone',
        row.line,
        `le gestionnaire « ${managerEmail} »`,
        issues,
      );
    }

    if (lotNumber !== '' && buildingCode !== '') {
      const key = lotKey(buildingCode, lotNumber);
      const lot: ParsedLot & { line: number } = {
        line: row.line,
        buildingCode,
        number: lotNumber,
        type: get('lot_type') || null,
        description: get('lot_description') || null,
        shares,
      };
      const known = lots.get(key);
      if (!known) {
        lots.set(key, lot);
      } else {
        const checks = [
          ['lot_type', 'type'],
          ['lot_description', 'description'],
          ['tantiemes', 'shares'],
        ] as const;
        for (const [column, field] of checks) {
          if (known[field] !== lot[field]) {
            err(
              column,
              `« ${get(column)} » contredit la ligne ${known.line} pour le lot « ${lotNumber} » de l’immeuble « ${buildingCode} » (« ${known[field] ?? ''} »).`,
            );
          }
        }
      }
      const account = accounts.get(reference);
      if (account && !account.lotKeys.includes(key)) account.lotKeys.push(key);
    }
  };

  readCsv(buffer, {
    header(header) {
      cols = new Columns(header, REFERENTIEL_COLUMNS, issues);
      checkHeader();
    },
    row: onRow,
  });
  if (rows === 0) issues.add(1, undefined, 'le fichier ne contient aucune ligne de données.');
  issues.throwIfAny();

  return {
    columns: new Set(REFERENTIEL_COLUMNS.filter((c) => cols.has(c))),
    rows,
    accounts,
    buildings: new Map([...buildings].map(([k, { lines: _lines, ...b }]) => [k, b])),
    lots: new Map([...lots].map(([k, { line: _line, ...l }]) => [k, l])),
    managers: new Map([...managers].map(([k, { lines: _lines, ...m }]) => [k, m])),
  };
}

/** Building and gestionnaire details may be omitted on some rows, never contradicted. */
type Details<F extends string> = { [K in F]: string | null } & { lines: Partial<Record<string, number>> };

function mergeDetail<F extends string>(
  target: Details<F>,
  field: F,
  value: string,
  column: ReferentielColumn,
  line: number,
  what: string,
  issues: IssueCollector,
): void {
  if (value === '') return;
  const current = target[field];
  if (current === null) {
    (target as Record<F, string | null>)[field] = value;
    target.lines[field] = line;
  } else if (current !== value) {
    issues.add(line, column, `« ${value} » contredit la ligne ${target.lines[field]} pour ${what} (« ${current} »).`);
  }
}
