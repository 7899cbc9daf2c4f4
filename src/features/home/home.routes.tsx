import type { FastifyInstance } from 'fastify';
import { PageCache, renderKeptPage } from '../../core/http/render.ts';
import { requireUser } from '../../core/http/session.ts';
import { queryInput } from '../../core/http/input.ts';
import { presentHome } from './home.presenter.ts';
import { homeOf } from './home.service.ts';
import { homeQuerySchema } from './home.schemas.ts';
import { HomePage } from './home.views.tsx';

export async function homeRoutes(app: FastifyInstance) {
  // The most visited page: kept per person and tab while the data it shows has not changed.
  const kept = new PageCache();

  app.get('/accueil', { preHandler: requireUser }, async (req, reply) => {
    const user = req.user!;
    const query = queryInput(req, homeQuerySchema);
    const requestedKind = query.success ? query.data.onglet : undefined;
    const versions = req.dataVersions!;
    return renderKeptPage(
      req,
      reply,
      { cache: kept, key: `${user.id}:${requestedKind ?? ''}`, stamp: [versions.clientData, versions.ledger] },
      async () => {
        const { accounts, lots, balances, counts } = await homeOf(req.ctx, requestedKind, versions.ledger);
        const view = presentHome({ user, accounts, lots, balances, documentCounts: counts, requestedKind });
        return (ctx) => <HomePage ctx={ctx} view={view} />;
      },
    );
  });
}
