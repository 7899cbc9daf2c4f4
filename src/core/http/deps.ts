import type { Config } from '../../config.ts';
import type { Db } from '../../db/db.ts';
import type { AgencyIdentity } from '../agency/agency.ts';

/**
 * Everything a feature needs from the outside world, passed to buildApp. No mailer: features
 * write mails to the outbox in their transaction, and only the worker holds the transport.
 * The core knows no adapter: the composition root (src/app.ts) adds the adapters it wires
 * (file storage, card payments) to this interface.
 */
export interface AppDeps {
  config: Config;
  db: Db;
  /** Injectable clock so tests can move time (expiry, lockouts). */
  now?: () => Date;
  /** The agency's identity kept in memory; one per process by default. */
  agency?: AgencyIdentity;
}

declare module 'fastify' {
  interface FastifyInstance {
    deps: Required<AppDeps>;
  }
  interface FastifyContextConfig {
    /**
     * Set only on a route that a third party calls with a body it signs (the payment
     * provider's notifications): it cannot carry our form token, and the route checks the
     * signature itself. app.ts skips the CSRF check for exactly these routes.
     */
    csrfExempt?: 'provider-signature';
  }
}
