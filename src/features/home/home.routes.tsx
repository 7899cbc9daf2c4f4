import type { FastifyInstance } from 'fastify';
import { renderPage } from '../../core/http/render.ts';
import { requireUser } from '../../core/http/session.ts';
import { accountsWithBuildingOfUser, balancesOf, lotsOfAccounts } from '../accounts/accounts.repository.ts';
import { presentHome, selectedKind } from './home.presenter.ts';
import { homeQuerySchema } from './home.schemas.ts';
import { HomePage } from './home.views.tsx';

export async function homeRoutes(app: FastifyInstance) {
  const { db } = app.deps;

  app.get('/accueil', { preHandler: requireUser }, async (req, reply) => {
    const user = req.user!;
    const query = homeQuerySchema.safeParse(req.query ?? {});
    const requestedKind = query.success ? query.data.onglet : undefined;
    // Three queries whatever the number of accounts: the accounts, then the lots and balances
    // of those the selected tab shows, each in one query.
    const accounts = await accountsWithBuildingOfUser(db, user.id);
    const kind = selectedKind(accounts, requestedKind);
    const ids = accounts.filter((a) => a.kind === kind).map((a) => a.id);
    const [lots, balances] = await Promise.all([lotsOfAccounts(db, ids), balancesOf(db, ids)]);
    const view = presentHome({
      user,
      accounts,
      lots,
      balances,
      requestedKind,
    });
    return renderPage(req, reply, (ctx) => <HomePage ctx={ctx} view={view} />);
  });
}
