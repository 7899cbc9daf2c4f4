import type { Db } from '../../db/db.ts';

/** The agency's identity, shown on every page and mail. Set with `npx palier agence …`. */
export interface Agency {
  name: string;
  tagline: string | null;
  address: string | null;
  phone: string | null;
  email: string | null;
  website: string | null;
  /** Storage key of the logo (see src/adapters/storage), served at /agence/logo. */
  logo: string | null;
  /** Bank details for "Payer" by transfer until online payment exists. */
  iban: string | null;
  bic: string | null;
  /** Highest amount a client may pay online at once, in cents as text; null: DEFAULT_PAYMENT_LIMIT_CENTS. */
  paymentLimit: string | null;
  /** Main colour of the pages, `#RRGGBB`, readable on white (4.5:1); null: Palier's own blue. */
  color: string | null;
  /** false until `palier agence` has been run: pages show a neutral name. */
  configured: boolean;
}

export const AGENCY_KEYS = [
  'name',
  'tagline',
  'address',
  'phone',
  'email',
  'website',
  'logo',
  'iban',
  'bic',
  'paymentLimit',
  'color',
] as const;
export type AgencyKey = (typeof AGENCY_KEYS)[number];

/** 10 000 € unless the agency sets its own limit (`palier agence --plafond-paiement`). */
export const DEFAULT_PAYMENT_LIMIT_CENTS = 1_000_000;

/** The most a client may pay at once on « Payer », in cents. */
export function paymentLimitCents(agency: Pick<Agency, 'paymentLimit'>): number {
  const n = Number(agency.paymentLimit);
  return agency.paymentLimit && Number.isSafeInteger(n) && n > 0 ? n : DEFAULT_PAYMENT_LIMIT_CENTS;
}

export const NEUTRAL_AGENCY_NAME = 'Votre espace client';

export async function getAgency(db: Db): Promise<Agency> {
  const rows = await db.selectFrom('settings').select(['key', 'value']).where('key', 'like', 'agency.%').execute();
  return agencyFrom(new Map(rows.map((r) => [r.key.slice('agency.'.length), r.value])));
}

/** The identity the stored settings describe (`agence` keys without their prefix); empty values count as unset. */
export function agencyFrom(settings: ReadonlyMap<string, string>): Agency {
  const get = (k: AgencyKey) => settings.get(k) || null;
  return {
    name: get('name') ?? NEUTRAL_AGENCY_NAME,
    tagline: get('tagline'),
    address: get('address'),
    phone: get('phone'),
    email: get('email'),
    website: get('website'),
    logo: get('logo'),
    iban: get('iban'),
    bic: get('bic'),
    paymentLimit: get('paymentLimit'),
    color: get('color'),
    configured: settings.has('name'),
  };
}

/** What pages show before `palier agence` has run, or when the settings cannot be read. */
export const NEUTRAL_AGENCY: Agency = agencyFrom(new Map());

const VERSION_KEY = 'agency_version';

/** Changes whenever setAgency runs, so every instance knows its copy is stale. */
export async function getAgencyVersion(db: Db): Promise<string | null> {
  const row = await db.selectFrom('settings').select('value').where('key', '=', VERSION_KEY).executeTakeFirst();
  return row?.value ?? null;
}

export async function setAgency(db: Db, values: Partial<Record<AgencyKey, string | null>>): Promise<void> {
  // Inside the caller's transaction when there is one: its audit event commits with the change.
  if (db.isTransaction) return writeAgency(db, values);
  await db.transaction().execute((trx) => writeAgency(trx, values));
}

async function writeAgency(trx: Db, values: Partial<Record<AgencyKey, string | null>>): Promise<void> {
  await trx.deleteFrom('settings').where('key', '=', VERSION_KEY).execute();
  await trx
    .insertInto('settings')
    .values({ key: VERSION_KEY, value: `${Date.now()}-${Math.random().toString(36).slice(2)}` })
    .execute();
  for (const [k, v] of Object.entries(values)) {
    const key = `agency.${k}`;
    await trx.deleteFrom('settings').where('key', '=', key).execute();
    if (v !== null && v !== undefined && v !== '') {
      await trx.insertInto('settings').values({ key, value: v }).execute();
    }
  }
}
