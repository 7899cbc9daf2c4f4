import type { FastifyInstance, FastifyRequest } from 'fastify';
import { securityEvent } from '../../core/audit.ts';
import { notFound } from '../../core/errors.ts';
import type { ClientAccount } from '../../db/schema.ts';
import { findAccountOfUser, findBuilding, parseId } from './accounts.repository.ts';
import type { AccountSummary } from './accounts.views.tsx';

/**
 * The account of the URL if the logged-in person holds it; otherwise the same 404 as an
 * id that does not exist, so ids of others reveal nothing. Every page about one account
 * loads it through here; a refused id is a security event.
 */
export async function loadOwnAccount(app: FastifyInstance, req: FastifyRequest): Promise<ClientAccount> {
  const id = parseId((req.params as Record<string, unknown>).id);
  if (id === null || !req.user) throw notFound();
  const account = await findAccountOfUser(app.deps.db, req.user.id, id);
  if (!account) {
    // The id goes in the details: it may not exist, so it cannot be a foreign key.
    await securityEvent(req, app.deps.db, {
      action: 'account.read',
      outcome: 'denied',
      userId: req.user.id,
      details: { requestedAccountId: id, route: req.routeOptions.url ?? null },
    });
    throw notFound();
  }
  return account;
}

/** What the account pages show to say which account they are about. */
export async function accountSummary(app: FastifyInstance, account: ClientAccount): Promise<AccountSummary> {
  const building = await findBuilding(app.deps.db, account.building_id);
  return { id: account.id, kind: account.kind, reference: account.reference, buildingName: building?.name ?? null };
}
