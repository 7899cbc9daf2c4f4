import { bumpLedgerVersion } from '../../src/features/statements/statements.repository.ts';
import type { Db } from '../../src/db/db.ts';
import { referenceKey } from '../../src/db/reference-key.ts';
import type { AccountKind, CouncilRole } from '../../src/db/schema.ts';
import { hashAccessCode } from '../../src/core/security/access-code.ts';
import { hashPassword } from '../../src/core/security/passwords.ts';
import type { Config } from '../../src/config.ts';

let seq = 0;
const next = () => ++seq + Math.floor(Math.random() * 1e6) * 1000;

export async function createManager(db: Db, o: { name?: string; email?: string; phone?: string } = {}) {
  const n = next();
  const row = await db
    .insertInto('managers')
    .values({
      name: o.name ?? 'ZIANE Aziza',
      email: o.email ?? `gestionnaire${n}@agence.test`,
      phone: o.phone ?? '04 76 00 00 00',
    })
    .returning(['id', 'email', 'name'])
    .executeTakeFirstOrThrow();
  return row;
}

export async function createBuilding(db: Db, o: { code?: string; name?: string } = {}) {
  const n = next();
  return db
    .insertInto('buildings')
    .values({
      code: o.code ?? `IMM${n}`,
      name: o.name ?? 'Résidence Les Tilleuls',
      address: '12 rue des Alpes',
      postal_code: '38000',
      city: 'Grenoble',
    })
    .returning(['id', 'code', 'name'])
    .executeTakeFirstOrThrow();
}

export async function createLot(
  db: Db,
  buildingId: number,
  o: { number?: string; type?: string; description?: string; shares?: number } = {},
) {
  return db
    .insertInto('lots')
    .values({
      building_id: buildingId,
      number: o.number ?? String(next()).padStart(4, '0'),
      type: o.type ?? 'Appartement',
      description: o.description ?? '4 pièces',
      shares: o.shares ?? 123,
    })
    .returning(['id', 'number'])
    .executeTakeFirstOrThrow();
}

export interface SeedAccountOptions {
  reference?: string;
  kind?: AccountKind;
  accessCode?: string | null;
  buildingId?: number;
  managerId?: number;
  firstName?: string;
  lastName?: string;
  email?: string | null;
  councilRole?: CouncilRole | null;
  lots?: { number?: string; type?: string; description?: string; shares?: number }[];
}

/** An account as an import would leave it: building, manager, lots and a printed access code. */
export async function seedAccount(db: Db, config: Pick<Config, 'secrets'>, o: SeedAccountOptions = {}) {
  const n = next();
  const building = o.buildingId ? { id: o.buildingId } : await createBuilding(db);
  const manager = o.managerId ? { id: o.managerId } : await createManager(db);
  const now = new Date().toISOString();
  const accessCode = o.accessCode === undefined ? `CODE-${n}-XY` : o.accessCode;
  const reference = o.reference ?? `C${n}`;
  const account = await db
    .insertInto('client_accounts')
    .values({
      reference,
      reference_key: referenceKey(reference),
      kind: o.kind ?? 'coproprietaire',
      building_id: building.id,
      manager_id: manager.id,
      civility: 'M.',
      last_name: o.lastName ?? 'DURAND',
      first_name: o.firstName ?? 'Paul',
      email: o.email === undefined ? `client${n}@exemple.test` : o.email,
      phone: '06 12 34 56 78',
      address: '12 rue des Alpes',
      postal_code: '38000',
      city: 'GRENOBLE',
      council_role: o.councilRole ?? null,
      access_code_hash: accessCode ? hashAccessCode(config.secrets.hmacKey, accessCode) : null,
      access_code_encrypted: null,
      access_code_origin: accessCode ? 'import' : null,
      access_code_issued_at: accessCode ? now : null,
      access_code_used_at: null,
      created_at: now,
      updated_at: now,
    })
    .returning(['id', 'reference', 'email'])
    .executeTakeFirstOrThrow();
  for (const l of o.lots ?? [{}]) {
    const lot = await createLot(db, building.id, l);
    await db.insertInto('account_lots').values({ account_id: account.id, lot_id: lot.id }).execute();
  }
  return { ...account, accessCode: accessCode ?? '', buildingId: building.id, managerId: manager.id };
}

export async function addLedger(
  db: Db,
  accountId: number,
  lines: { date: string; label: string; debit?: number; credit?: number }[],
) {
  let position = 0;
  await bumpLedgerVersion(db);
  for (const l of lines) {
    await db
      .insertInto('ledger_entries')
      .values({
        account_id: accountId,
        position: position++,
        entry_date: l.date,
        label: l.label,
        debit_cents: l.debit ?? 0,
        credit_cents: l.credit ?? 0,
        piece: null,
      })
      .execute();
  }
}

export const TEST_PASSWORD = 'Tr3sB1enCach';

/** A person with a space already holding these accounts (skips the claim journey). */
export async function createUser(
  db: Db,
  o: { email?: string; password?: string; firstName?: string; lastName?: string; accountIds?: number[] } = {},
) {
  const n = next();
  const now = new Date().toISOString();
  const email = o.email ?? `personne${n}@exemple.test`;
  const user = await db
    .insertInto('users')
    .values({
      email,
      email_verified_at: now,
      password_hash: await hashPassword(o.password ?? TEST_PASSWORD),
      civility: 'Mme',
      first_name: o.firstName ?? 'Claire',
      last_name: o.lastName ?? 'MARTIN',
      phone: null,
      address: null,
      postal_code: null,
      city: null,
      created_at: now,
      updated_at: now,
    })
    .returning(['id', 'email'])
    .executeTakeFirstOrThrow();
  for (const accountId of o.accountIds ?? []) {
    await db.insertInto('user_accounts').values({ user_id: user.id, account_id: accountId, linked_at: now }).execute();
  }
  return { ...user, password: o.password ?? TEST_PASSWORD };
}
