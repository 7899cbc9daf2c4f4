import type { CardPayments } from '../../adapters/payments/card-payments.ts';
import type { Storage } from '../../adapters/storage/storage.ts';
import type { Config } from '../../config.ts';
import type { Db } from '../../db/db.ts';
import type { AgencyIdentity } from '../agency/agency.ts';

/**
 * Everything a feature needs from the outside world, passed to buildApp. No mailer: features
 * write mails to the outbox in their transaction, and only the worker holds the transport.
 */
export interface AppDeps {
  config: Config;
  db: Db;
  /** Injectable clock so tests can move time (expiry, lockouts). */
  now?: () => Date;
  /** The agency's identity kept in memory; one per process by default. */
  agency?: AgencyIdentity;
  /** Stored files (the logo); by default the local folder the configuration names. */
  storage?: Storage;
  /** Card payments (Stripe Checkout); null when the configuration has no keys: no card option. */
  cardPayments?: CardPayments | null;
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
