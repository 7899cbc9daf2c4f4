import type { FastifyInstance } from 'fastify';
import { renderPage } from '../../core/http/render.ts';
import { requireUser } from '../../core/http/session.ts';
import { accountsWithBuildingOfUser, balancesOf, lotsOfAccounts } from '../accounts/accounts.repository.ts';
import { documentCounts } from '../documents/documents.service.ts';
import { presentHome, selectedKind } from './home.presenter.ts';
import { homeQuerySchema } from './home.schemas.ts';
import { HomePage } from './home.views.tsx';

export async function homeRoutes(app: FastifyInstance) {
  const { db } = app.deps;

  app.get('/accueil', { preHandler: requireUser }, async (req, reply) => {
    const user = req.user!;
    const query = homeQuerySchema.safeParse(req.query ?? {});
    const requestedKind = query.success ? query.data.onglet : undefined;
    // Four queries whatever the number of accounts: the accounts, then the lots, balances and
    // document counts of those the selected tab shows, each in one query.
    const accounts = await accountsWithBuildingOfUser(db, user.id);
    const kind = selectedKind(accounts, requestedKind);
    const shown = accounts.filter((a) => a.kind === kind);
    const ids = shown.map((a) => a.id);
    const [lots, balances, counts] = await Promise.all([
      lotsOfAccounts(db, ids),
      balancesOf(db, ids),
      documentCounts(req.ctx, shown),
    ]);
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
