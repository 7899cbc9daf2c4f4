import Database from 'better-sqlite3';
import pg from 'pg';
import { hashAccessCode } from '../src/core/security/access-code.ts';
import type { DialectName } from '../src/db/db.ts';
import { referenceKey } from '../src/db/reference-key.ts';
import type { AccountKind } from '../src/db/schema.ts';

/**
 * Generates a realistic agency in bulk: buildings, lots, managers, the three kinds of
 * client accounts, the people who claimed them (1–3 accounts each) and five years of
 * ledger lines. Rows go straight into the tables in batches (better-sqlite3 prepared
 * statements, PostgreSQL `unnest` arrays): the CSV import validates line by line and
 * would take minutes for a million lines, which is not what is being measured here.
 */

export interface GenerateOptions {
  dialect: DialectName;
  /** sqlite: a file path; postgres: a connection string. */
  target: string;
  hmacKey: string;
  /** One argon2 hash shared by every generated person (hashing 6 000 passwords would take minutes). */
  passwordHash: string;
  accounts?: number;
  ledgerLines?: number;
  buildings?: number;
  /** Accounts that get exactly `bigStatementLines` lines, each held by a different person. */
  bigAccounts?: number;
  bigStatementLines?: number;
  /** People for the soak (`npm run bench` with BENCH_ONLY=soak…), none holding a big account. */
  soakPeople?: number;
}

export interface BenchPerson {
  userId: number;
  email: string;
  accountIds: number[];
}

export interface GeneratedData {
  counts: Record<
    | 'managers'
    | 'buildings'
    | 'lots'
    | 'accounts'
    | 'coproprietaire'
    | 'locataire'
    | 'proprietaire'
    | 'users'
    | 'userAccounts'
    | 'ledgerLines',
    number
  >;
  /** People with one, two and three accounts, none of them a big account (typical home pages). */
  homePeople: BenchPerson[];
  /** The big accounts and the person holding each. */
  statementTargets: { person: BenchPerson; accountId: number; lines: number }[];
  /** Other people, for the login benchmark. */
  loginPeople: BenchPerson[];
  /** Yet others, for the soak: ordinary people, the line count of each of their accounts alongside. */
  soakPeople: (BenchPerson & { lines: number[] })[];
}

// ---------------------------------------------------------------------------------------
// Deterministic randomness: two runs generate the same agency.

function mulberry32(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const rnd = mulberry32(20251129);
const int = (min: number, max: number) => min + Math.floor(rnd() * (max - min + 1));
const pick = <T>(list: readonly T[]): T => list[Math.floor(rnd() * list.length)]!;
const pad = (n: number, width: number) => String(n).padStart(width, '0');

const FIRST_NAMES = [
  'Marie',
  'Jean',
  'Claire',
  'Paul',
  'Sophie',
  'Pierre',
  'Isabelle',
  'Michel',
  'Nathalie',
  'Philippe',
  'Catherine',
  'Alain',
  'Sylvie',
  'Éric',
  'Christine',
  'Laurent',
  'Hélène',
  'François',
  'Anne',
  'Nicolas',
  'Élodie',
  'Julien',
  'Camille',
  'Thomas',
  'Léa',
  'Hugo',
  'Chloé',
  'Louis',
  'Manon',
  'Gabriel',
  'Inès',
  'Yasmine',
  'Karim',
  'Aziza',
  'Mehdi',
  'Nguyen',
  'Bérénice',
  'Zoé',
  'Jérôme',
  'Françoise',
];
const LAST_NAMES = [
  'MARTIN',
  'BERNARD',
  'DUBOIS',
  'THOMAS',
  'ROBERT',
  'RICHARD',
  'PETIT',
  'DURAND',
  'LEROY',
  'MOREAU',
  'SIMON',
  'LAURENT',
  'LEFÈVRE',
  'MICHEL',
  'GARCIA',
  'DAVID',
  'BERTRAND',
  'ROUX',
  'VINCENT',
  'FOURNIER',
  'MOREL',
  'GIRARD',
  'ANDRÉ',
  'MERCIER',
  'DUPONT',
  'LAMBERT',
  'BONNET',
  'FRANÇOIS',
  'MARTINEZ',
  'LEGRAND',
  'GARNIER',
  'FAURE',
  'ROUSSEAU',
  'BLANC',
  'GUÉRIN',
  'MULLER',
  'HENRY',
  'ROUSSEL',
  'NICOLAS',
  'PERRIN',
  'ZIANE',
  'BENALI',
  "D'ALMEIDA",
  'N’DIAYE',
];
const STREETS = [
  'rue des Alpes',
  'avenue Jean Jaurès',
  'boulevard Gambetta',
  'rue Félix Poulat',
  'cours Berriat',
  'place Grenette',
  'rue de la République',
  'avenue Alsace-Lorraine',
  'quai Stéphane Jay',
  'rue Lesdiguières',
  'allée des Tilleuls',
  'chemin des Buclos',
  'rue Émile Zola',
  'avenue de Verdun',
  'rue Thiers',
];
const CITIES: readonly [string, string][] = [
  ['38000', 'GRENOBLE'],
  ['38100', 'GRENOBLE'],
  ['38400', 'SAINT-MARTIN-D’HÈRES'],
  ['38130', 'ÉCHIROLLES'],
  ['38240', 'MEYLAN'],
  ['38600', 'FONTAINE'],
  ['38120', 'SAINT-ÉGRÈVE'],
  ['69003', 'LYON'],
  ['69007', 'LYON'],
  ['73000', 'CHAMBÉRY'],
];
const RESIDENCES = [
  'Résidence Les Tilleuls',
  'Le Belvédère',
  'Les Jardins de Vercors',
  'Le Grand Sablon',
  'Résidence du Parc',
  'Les Terrasses de Belledonne',
  'Le Clos des Vignes',
  'L’Île Verte',
  'Le Patio',
  'Les Cèdres',
  'Le Chartreuse',
  'Résidence Victor Hugo',
  'Les Balcons du Drac',
  'Le Carré d’Or',
  'La Bastille',
];
const WORKS = [
  'ravalement de façade',
  'réfection de la toiture',
  'mise aux normes ascenseur',
  'remplacement chaudière',
  'étanchéité terrasse',
  'interphonie',
  'peinture cage d’escalier',
];

function strip(s: string): string {
  return s
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^a-zA-Z]/g, '')
    .toLowerCase();
}

// ---------------------------------------------------------------------------------------
// Bulk writers.

type PgType = 'int4' | 'text';
type Column = readonly [name: string, type: PgType];
type Row = (string | number | null)[];

interface Writer {
  insert(table: string, columns: readonly Column[], rows: Row[]): Promise<void>;
  finish(): Promise<void>;
  abort(): Promise<void>;
}

function sqliteWriter(file: string): Writer {
  const sqlite = new Database(file);
  // Bulk load only: the app reopens the file with its own (durable) settings.
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = OFF');
  sqlite.pragma('foreign_keys = ON');
  return {
    async insert(table, columns, rows) {
      const stmt = sqlite.prepare(
        `INSERT INTO ${table} (${columns.map((c) => c[0]).join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`,
      );
      sqlite.transaction((all: Row[]) => {
        for (const r of all) stmt.run(r);
      })(rows);
    },
    async finish() {
      sqlite.pragma('wal_checkpoint(TRUNCATE)');
      sqlite.close();
    },
    async abort() {
      sqlite.close();
    },
  };
}

async function pgWriter(url: string): Promise<Writer> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query('BEGIN');
  const tablesWithIds = new Set<string>();
  return {
    async insert(table, columns, rows) {
      // One statement per 50 000 rows, each column sent as one array: far faster than VALUES lists.
      for (let start = 0; start < rows.length; start += 50_000) {
        const chunk = rows.slice(start, start + 50_000);
        const arrays = columns.map((_, i) => chunk.map((r) => r[i]));
        const list = columns.map((c) => c[0]).join(', ');
        const unnest = columns.map((c, i) => `$${i + 1}::${c[1]}[]`).join(', ');
        await client.query(`INSERT INTO ${table} (${list}) SELECT * FROM unnest(${unnest})`, arrays);
      }
      if (columns[0]?.[0] === 'id') tablesWithIds.add(table);
    },
    async finish() {
      // Ids were given explicitly: move the sequences past them so the app's own inserts work.
      for (const t of tablesWithIds) {
        await client.query(`SELECT setval(pg_get_serial_sequence('${t}', 'id'), (SELECT MAX(id) FROM ${t}))`);
      }
      await client.query('COMMIT');
      // Fresh statistics, as autovacuum would have after an import.
      await client.query('ANALYZE');
      await client.end();
    },
    async abort() {
      await client.end();
    },
  };
}

// ---------------------------------------------------------------------------------------

interface LotRow {
  id: number;
  buildingId: number;
  number: string;
}

interface AccountDraft {
  id: number;
  kind: AccountKind;
  buildingId: number;
  managerId: number;
  lotIds: number[];
  mainLotNumber: string;
  councilRole: 'membre' | 'president' | null;
}

const FIRST_DAY = Date.UTC(2021, 0, 1);
const DAYS = 5 * 365 + 1; // 2021-01-01 … 2025-12-31

function isoDay(dayIndex: number): string {
  return new Date(FIRST_DAY + dayIndex * 86_400_000).toISOString().slice(0, 10);
}

/** Ledger lines of one account: charges by kind, payments that mostly settle them, a few debtors and creditors. */
function ledgerOf(account: AccountDraft, n: number, firstId: number): Row[] {
  const days: number[] = [];
  for (let i = 0; i < n; i++) days.push(Math.floor(rnd() * DAYS));
  days.sort((a, b) => a - b);
  const rows: Row[] = [];
  let owed = 0; // charges not yet paid (for a landlord: rent collected not yet paid out)
  let cheque = int(1_000_000, 9_000_000);
  for (let i = 0; i < n; i++) {
    const date = isoDay(days[i]!);
    const year = Number(date.slice(0, 4));
    const month = date.slice(5, 7);
    const quarter = Math.floor((Number(month) - 1) / 3) + 1;
    let label: string;
    let debit = 0;
    let credit = 0;
    let piece: string | null = null;
    const settle = owed > 0 && rnd() < 0.5;
    if (account.kind === 'proprietaire') {
      if (settle) {
        debit = owed;
        label = 'Virement au propriétaire';
        piece = `VIR${year}${pad(int(1, 9999), 4)}`;
      } else if (rnd() < 0.8) {
        credit = int(45_000, 135_000);
        label = `Loyer encaissé ${month}/${year} - Lot ${account.mainLotNumber}`;
      } else if (rnd() < 0.7) {
        debit = int(3_000, 9_000);
        label = `Honoraires de gestion ${month}/${year}`;
        piece = `HON${year}${month}`;
      } else {
        debit = int(8_000, 90_000);
        label = pick([
          'Facture plomberie',
          'Facture électricité parties privatives',
          'Taxe foncière',
          'Assurance propriétaire non occupant',
        ]);
      }
      owed += credit - debit;
    } else {
      if (settle) {
        const partial = rnd() < 0.1;
        const over = rnd() < 0.04;
        credit = partial ? Math.ceil(owed / 2) : over ? owed + int(1_000, 30_000) : owed;
        const how = rnd();
        if (how < 0.45) {
          label = how < 0.2 ? 'Règlement chèque' : `Règlement chèque n° ${cheque++}`;
          piece = `CHQ${cheque}`;
        } else if (how < 0.8) {
          label = 'Prélèvement SEPA';
        } else {
          label = 'Virement reçu';
        }
      } else if (account.kind === 'coproprietaire') {
        const what = rnd();
        if (what < 0.6) {
          debit = int(25_000, 180_000);
          label = `Appel de fonds ${quarter}T${year}`;
          piece = `AF${year}${quarter}`;
        } else if (what < 0.8) {
          debit = int(1_500, 9_000);
          label = `Fonds de travaux ALUR ${quarter}T${year}`;
          piece = `FT${year}${quarter}`;
        } else if (what < 0.92) {
          debit = int(20_000, 400_000);
          label = `Appel travaux ${pick(WORKS)}`;
        } else if (rnd() < 0.5) {
          debit = int(1_000, 40_000);
          label = `Régularisation de charges ${year - 1}`;
        } else {
          credit = int(1_000, 40_000);
          label = `Régularisation de charges ${year - 1}`;
        }
      } else {
        const what = rnd();
        if (what < 0.6) {
          debit = int(45_000, 135_000);
          label = `Loyer ${month}/${year}`;
        } else if (what < 0.9) {
          debit = int(4_000, 20_000);
          label = `Provision sur charges ${month}/${year}`;
        } else {
          debit = int(1_000, 30_000);
          label = `Régularisation de charges ${year - 1}`;
        }
      }
      owed += debit - credit;
    }
    rows.push([firstId + i, account.id, i, date, label, debit, credit, piece]);
  }
  return rows;
}

export async function generate(o: GenerateOptions): Promise<GeneratedData> {
  const nAccounts = o.accounts ?? 10_000;
  const nLines = o.ledgerLines ?? 1_000_000;
  const nBuildings = o.buildings ?? 300;
  const nBig = o.bigAccounts ?? 20;
  const bigLines = o.bigStatementLines ?? 2_000;
  const now = new Date().toISOString();
  const w = o.dialect === 'postgres' ? await pgWriter(o.target) : sqliteWriter(o.target);

  try {
    await w.insert(
      'settings',
      [
        ['key', 'text'],
        ['value', 'text'],
      ],
      [
        ['agency.name', 'Cabinet Dauphiné Gestion'],
        ['agency.tagline', 'Syndic et gérance depuis 1904'],
        ['agency.address', '8 place Victor Hugo, 38000 Grenoble'],
        ['agency.phone', '04 76 00 12 34'],
        ['agency.email', 'contact@dauphine-gestion.example'],
        ['agency.website', 'https://dauphine-gestion.example'],
        ['agency.iban', 'FR7630006000011234567890189'],
        ['agency.bic', 'AGRIFRPPXXX'],
      ],
    );

    const managers: Row[] = [];
    for (let i = 1; i <= 12; i++) {
      const first = pick(FIRST_NAMES);
      const last = pick(LAST_NAMES);
      managers.push([
        i,
        `${strip(first)}.${strip(last)}${i}@dauphine-gestion.example`,
        `${last} ${first}`,
        `04 76 00 ${pad(10 + i, 2)} ${pad(int(0, 99), 2)}`,
      ]);
    }
    await w.insert(
      'managers',
      [
        ['id', 'int4'],
        ['email', 'text'],
        ['name', 'text'],
        ['phone', 'text'],
      ],
      managers,
    );

    const buildings: Row[] = [];
    const buildingManager: number[] = [];
    for (let b = 1; b <= nBuildings; b++) {
      const [cp, city] = pick(CITIES);
      buildings.push([
        b,
        `IMM${pad(b, 4)}`,
        `${pick(RESIDENCES)}${rnd() < 0.5 ? '' : ` ${pick(['I', 'II', 'III', 'Nord', 'Sud', 'A', 'B'])}`}`,
        `${int(1, 180)} ${pick(STREETS)}`,
        cp,
        city,
      ]);
      buildingManager[b] = ((b - 1) % 12) + 1;
    }
    await w.insert(
      'buildings',
      [
        ['id', 'int4'],
        ['code', 'text'],
        ['name', 'text'],
        ['address', 'text'],
        ['postal_code', 'text'],
        ['city', 'text'],
      ],
      buildings,
    );

    // Accounts and lots, building by building: co-owners own an apartment (plus cave, parking),
    // tenants rent one, landlords (gérance) let one.
    const lots: Row[] = [];
    const lotRows: LotRow[] = [];
    const accounts: AccountDraft[] = [];
    let lotId = 0;
    for (let b = 1; b <= nBuildings; b++) {
      const inBuilding = Math.floor(nAccounts / nBuildings) + (b <= nAccounts % nBuildings ? 1 : 0);
      let lotNumber = 0;
      const apartments: LotRow[] = [];
      const newLot = (type: string, description: string, shares: number) => {
        const row: LotRow = { id: ++lotId, buildingId: b, number: pad(++lotNumber, 4) };
        lots.push([row.id, b, row.number, type, description, shares]);
        lotRows.push(row);
        return row;
      };
      let councilSeats = 0;
      for (let k = 0; k < inBuilding; k++) {
        const r = rnd();
        const kind: AccountKind =
          r < 0.7 || apartments.length === 0 ? 'coproprietaire' : r < 0.9 ? 'locataire' : 'proprietaire';
        const draft: AccountDraft = {
          id: accounts.length + 1,
          kind,
          buildingId: b,
          managerId: buildingManager[b]!,
          lotIds: [],
          mainLotNumber: '',
          councilRole: null,
        };
        if (kind === 'coproprietaire') {
          const rooms = int(1, 5);
          const apt =
            rnd() < 0.05
              ? newLot('Local commercial', 'Boutique', int(150, 400))
              : newLot('Appartement', rooms === 1 ? 'Studio' : `${rooms} pièces`, 60 + rooms * int(25, 40));
          apartments.push(apt);
          draft.lotIds.push(apt.id);
          draft.mainLotNumber = apt.number;
          if (rnd() < 0.5) draft.lotIds.push(newLot('Cave', 'Cave', int(3, 8)).id);
          if (rnd() < 0.3) draft.lotIds.push(newLot('Parking', 'Place de parking', int(10, 25)).id);
          if (councilSeats < 3 && rnd() < 0.3) draft.councilRole = councilSeats++ === 0 ? 'president' : 'membre';
        } else {
          const apt = pick(apartments);
          draft.lotIds.push(apt.id);
          draft.mainLotNumber = apt.number;
        }
        accounts.push(draft);
      }
    }
    await w.insert(
      'lots',
      [
        ['id', 'int4'],
        ['building_id', 'int4'],
        ['number', 'text'],
        ['type', 'text'],
        ['description', 'text'],
        ['shares', 'int4'],
      ],
      lots,
    );

    // People: each holds one to three accounts, anywhere in the agency (an owner who also rents
    // elsewhere, a second property). 85 % of them have claimed their space.
    const order = accounts.map((a) => a.id);
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(rnd() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    interface Person {
      civility: string;
      first: string;
      last: string;
      phone: string;
      address: string;
      cp: string;
      city: string;
      accountIds: number[];
      userId: number | null;
      email: string;
    }
    const people: Person[] = [];
    const owner = new Map<number, Person>();
    for (let i = 0; i < order.length;) {
      const r = rnd();
      const size = Math.min(r < 0.55 ? 1 : r < 0.85 ? 2 : 3, order.length - i);
      const [cp, city] = pick(CITIES);
      const first = pick(FIRST_NAMES);
      const last = pick(LAST_NAMES);
      const p: Person = {
        civility: pick(['M.', 'Mme', 'Mme', 'M.', 'M. et Mme']),
        first,
        last,
        phone: `06 ${pad(int(0, 99), 2)} ${pad(int(0, 99), 2)} ${pad(int(0, 99), 2)} ${pad(int(0, 99), 2)}`,
        address: `${int(1, 200)} ${pick(STREETS)}`,
        cp,
        city,
        accountIds: order.slice(i, i + size),
        userId: null,
        email: '',
      };
      people.push(p);
      for (const id of p.accountIds) owner.set(id, p);
      i += size;
    }
    let userId = 0;
    people.forEach((p, i) => {
      p.email = `${strip(p.first)}.${strip(p.last)}.${i + 1}@exemple.fr`;
      if (rnd() < 0.85) p.userId = ++userId;
    });
    const users = people.filter((p) => p.userId !== null);

    const accountRows: Row[] = accounts.map((a) => {
      const p = owner.get(a.id)!;
      const prefix = a.kind === 'coproprietaire' ? 'C' : a.kind === 'locataire' ? 'L' : 'P';
      const code = `${pad(int(0, 9999), 4)}-${pad(int(0, 9999), 4)}-${a.id}`;
      const reference = `${prefix}${pad(a.id, 6)}`;
      return [
        a.id,
        reference,
        referenceKey(reference),
        a.kind,
        a.buildingId,
        a.managerId,
        p.civility,
        p.last,
        p.first,
        p.email,
        p.phone,
        p.address,
        p.cp,
        p.city,
        a.councilRole,
        hashAccessCode(o.hmacKey, code),
        'import',
        now,
        p.userId ? now : null,
        now,
        now,
      ];
    });
    await w.insert(
      'client_accounts',
      [
        ['id', 'int4'],
        ['reference', 'text'],
        ['reference_key', 'text'],
        ['kind', 'text'],
        ['building_id', 'int4'],
        ['manager_id', 'int4'],
        ['civility', 'text'],
        ['last_name', 'text'],
        ['first_name', 'text'],
        ['email', 'text'],
        ['phone', 'text'],
        ['address', 'text'],
        ['postal_code', 'text'],
        ['city', 'text'],
        ['council_role', 'text'],
        ['access_code_hash', 'text'],
        ['access_code_origin', 'text'],
        ['access_code_issued_at', 'text'],
        ['access_code_used_at', 'text'],
        ['created_at', 'text'],
        ['updated_at', 'text'],
      ],
      accountRows,
    );
    await w.insert(
      'account_lots',
      [
        ['account_id', 'int4'],
        ['lot_id', 'int4'],
      ],
      accounts.flatMap((a) => a.lotIds.map((l) => [a.id, l])),
    );

    await w.insert(
      'users',
      [
        ['id', 'int4'],
        ['email', 'text'],
        ['email_verified_at', 'text'],
        ['password_hash', 'text'],
        ['civility', 'text'],
        ['last_name', 'text'],
        ['first_name', 'text'],
        ['phone', 'text'],
        ['address', 'text'],
        ['postal_code', 'text'],
        ['city', 'text'],
        ['created_at', 'text'],
        ['updated_at', 'text'],
      ],
      users.map((p) => [
        p.userId,
        p.email,
        now,
        o.passwordHash,
        p.civility,
        p.last,
        p.first,
        p.phone,
        p.address,
        p.cp,
        p.city,
        now,
        now,
      ]),
    );
    const links = users.flatMap((p) => p.accountIds.map((a) => [p.userId, a, now]));
    await w.insert(
      'user_accounts',
      [
        ['user_id', 'int4'],
        ['account_id', 'int4'],
        ['linked_at', 'text'],
      ],
      links,
    );

    const asBench = (p: Person): BenchPerson => ({ userId: p.userId!, email: p.email, accountIds: p.accountIds });

    // The big statements: co-owner accounts of distinct people.
    const bigOwners = users.filter((p) => accounts[p.accountIds[0]! - 1]!.kind === 'coproprietaire').slice(0, nBig);
    const big = new Set(bigOwners.map((p) => p.accountIds[0]!));
    const rest = users.filter((p) => !bigOwners.includes(p));
    const homePeople = [1, 2, 3]
      .flatMap((size) => rest.filter((p) => p.accountIds.length === size).slice(0, 10))
      .map(asBench);
    const loginPeople = rest
      .filter((p) => !homePeople.some((h) => h.userId === p.userId))
      .slice(0, 20)
      .map(asBench);
    const taken = new Set([...homePeople, ...loginPeople].map((p) => p.userId));
    const others = rest.filter((p) => !taken.has(p.userId!));
    const nSoak = o.soakPeople ?? 200;
    if (others.length < nSoak) throw new Error(`only ${others.length} people available for the soak, ${nSoak} asked`);
    // Evenly spaced among the others, so the pool spreads over the whole agency.
    const stride = Math.floor(others.length / nSoak);
    const soakPool = others.filter((_, i) => i % stride === 0).slice(0, nSoak);

    // Line counts: the big accounts get exactly `bigLines`; the others share the rest, tenants
    // and landlords (monthly) a little more than co-owners (quarterly), summing exactly to nLines.
    const remaining = nLines - big.size * bigLines;
    const weights = accounts.map((a) =>
      big.has(a.id) ? 0 : (a.kind === 'coproprietaire' ? 1 : 1.3) * (0.4 + rnd() * 1.2),
    );
    const total = weights.reduce((s, x) => s + x, 0);
    const counts = weights.map((x) => Math.floor((remaining * x) / total));
    let left = remaining - counts.reduce((s, x) => s + x, 0);
    for (let i = 0; left > 0; i = (i + 1) % counts.length) {
      if (!big.has(accounts[i]!.id)) {
        counts[i]!++;
        left--;
      }
    }
    const ledgerColumns: Column[] = [
      ['id', 'int4'],
      ['account_id', 'int4'],
      ['position', 'int4'],
      ['entry_date', 'text'],
      ['label', 'text'],
      ['debit_cents', 'int4'],
      ['credit_cents', 'int4'],
      ['piece', 'text'],
    ];
    let batch: Row[] = [];
    let nextLineId = 1;
    for (const a of accounts) {
      const n = big.has(a.id) ? bigLines : counts[a.id - 1]!;
      const rows = ledgerOf(a, n, nextLineId);
      nextLineId += n;
      for (const r of rows) batch.push(r);
      if (batch.length >= 100_000) {
        await w.insert('ledger_entries', ledgerColumns, batch);
        batch = [];
      }
    }
    if (batch.length) await w.insert('ledger_entries', ledgerColumns, batch);

    await w.finish();
    return {
      counts: {
        managers: managers.length,
        buildings: buildings.length,
        lots: lots.length,
        accounts: accounts.length,
        coproprietaire: accounts.filter((a) => a.kind === 'coproprietaire').length,
        locataire: accounts.filter((a) => a.kind === 'locataire').length,
        proprietaire: accounts.filter((a) => a.kind === 'proprietaire').length,
        users: users.length,
        userAccounts: links.length,
        ledgerLines: nextLineId - 1,
      },
      homePeople,
      statementTargets: bigOwners.map((p) => ({ person: asBench(p), accountId: p.accountIds[0]!, lines: bigLines })),
      loginPeople,
      soakPeople: soakPool.slice(0, nSoak).map((p) => ({
        ...asBench(p),
        lines: p.accountIds.map((id) => counts[id - 1]!),
      })),
    };
  } catch (err) {
    await w.abort().catch(() => undefined);
    throw err;
  }
}
