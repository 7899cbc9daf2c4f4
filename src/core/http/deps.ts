import type { Config } from '../../config.ts';
import type { Db } from '../../db/db.ts';
import type { Mailer } from '../../adapters/mailer/mailer.ts';

/** Everything a feature needs from the outside world, passed to buildApp. */
export interface AppDeps {
  config: Config;
  db: Db;
  mailer: Mailer;
  /** Injectable clock so tests can move time (expiry, lockouts). */
  now?: () => Date;
}

declare module 'fastify' {
  interface FastifyInstance {
    deps: AppDeps & { now: () => Date };
  }
}
