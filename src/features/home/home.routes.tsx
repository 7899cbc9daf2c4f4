import type { FastifyInstance } from 'fastify';
import { renderPage } from '../../core/http/render.ts';
import { requireUser } from '../../core/http/session.ts';
import { queryInput } from '../../core/http/input.ts';
import { presentHome } from './home.presenter.ts';
import { homeOf } from './home.service.ts';
import { homeQuerySchema } from './home.schemas.ts';
import { HomePage } from './home.views.tsx';

export async function homeRoutes(app: FastifyInstance) {
  app.get('/accueil', { preHandler: requireUser }, async (req, reply) => {
    const user = req.user!;
    const query = queryInput(req, homeQuerySchema);
    const requestedKind = query.success ? query.data.onglet : undefined;
    const { accounts, lots, balances, counts } = await homeOf(req.ctx, requestedKind);
    const view = presentHome({
      user,
      accounts,
      lots,
      balances,
      documentCounts: counts,
      requestedKind,
    });
    return renderPage(req, reply, (ctx) => <HomePage ctx={ctx} view={view} />);
  });
}
