import type { FastifyInstance } from 'fastify';
import { pendingMigrations } from '../../db/db.ts';
import { pingDatabase } from './health.repository.ts';

/** For the load balancer: alive, and ready (database answers, migrations applied). */
export async function healthRoutes(app: FastifyInstance) {
  app.get('/sante', async () => ({ statut: 'ok' }));
  app.get('/sante/pret', async (_req, reply) => {
    try {
      await pingDatabase(app.deps.db);
      const pending = await pendingMigrations(app.deps.db);
      if (pending.length > 0) return reply.status(503).send({ statut: 'migrations en attente', migrations: pending });
      return { statut: 'pret' };
    } catch {
      return reply.status(503).send({ statut: 'base de données indisponible' });
    }
  });
}
