import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { pendingMigrations } from '../../db/db.ts';

/** For the load balancer: alive, and ready (database answers, migrations applied). */
export async function healthRoutes(app: FastifyInstance) {
  app.get('/sante', async () => ({ statut: 'ok' }));
  app.get('/sante/pret', async (_req, reply) => {
    try {
      await sql`select 1`.execute(app.deps.db);
      const pending = await pendingMigrations(app.deps.db);
      if (pending.length > 0) return reply.status(503).send({ statut: 'migrations en attente', migrations: pending });
      return { statut: 'pret' };
    } catch {
      return reply.status(503).send({ statut: 'base de données indisponible' });
    }
  });
}
