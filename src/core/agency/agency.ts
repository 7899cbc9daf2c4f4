import type { Db } from '../../db/db.ts';
import { getAgency, getAgencyVersion, type Agency } from './agency.repository.ts';

/** How long an instance trusts its copy before asking the database whether the identity changed. */
export const AGENCY_RECHECK_MS = 5_000;

/**
 * The agency's identity (name, logo, colours, bank details), shown on every page and mail.
 * Each instance keeps it in memory: reading it costs no query on a page. A change made by
 * `palier agence` (another process) bumps a version in the settings table; every instance
 * compares its version at most every AGENCY_RECHECK_MS and reloads when it moved.
 */
export interface AgencyIdentity {
  get(): Promise<Agency>;
  /** Forget the copy (after this process changed the identity). */
  invalidate(): void;
}

export function agencyIdentity(db: Db, opts: { recheckMs?: number; now?: () => number } = {}): AgencyIdentity {
  const recheckMs = opts.recheckMs ?? AGENCY_RECHECK_MS;
  const clock = opts.now ?? Date.now;
  let cached: { agency: Agency; version: string | null; checkedAt: number } | null = null;
  let loading: Promise<Agency> | null = null;

  async function load(): Promise<Agency> {
    const version = await getAgencyVersion(db);
    if (cached && cached.version === version) {
      cached.checkedAt = clock();
      return cached.agency;
    }
    const agency = await getAgency(db);
    cached = { agency, version, checkedAt: clock() };
    return agency;
  }

  return {
    get() {
      if (cached && clock() - cached.checkedAt < recheckMs) return Promise.resolve(cached.agency);
      // One reload at a time: a burst of requests after the delay shares it.
      loading ??= load().finally(() => {
        loading = null;
      });
      return loading;
    },
    invalidate() {
      cached = null;
    },
  };
}
