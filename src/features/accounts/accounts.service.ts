import type { FastifyInstance, FastifyRequest } from 'fastify';
import { notFound } from '../../core/errors.ts';
import type { ClientAccount } from '../../db/schema.ts';
import { findAccountOfUser, findBuilding, parseId } from './accounts.repository.ts';
import type { AccountSummary } from './accounts.views.tsx';

/**
 * The account of the URL if the logged-in person holds it; otherwise the same 404 as an
 * id that does not exist, so ids of others reveal nothing.
 */
export async function loadOwnAccount(app: FastifyInstance, req: FastifyRequest): Promise<ClientAccount> {
  const id = parseId((req.params as Record<string, unknown>).id);
  if (id === null || !req.user) throw notFound();
  const account = await findAccountOfUser(app.deps.db, req.user.id, id);
  if (!account) throw notFound();
  return account;
}

/** What the account pages show to say which account they are about. */
export async function accountSummary(app: FastifyInstance, account: ClientAccount): Promise<AccountSummary> {
  const building = await findBuilding(app.deps.db, account.building_id);
  return { id: account.id, kind: account.kind, reference: account.reference, buildingName: building?.name ?? null };
}
