import type { FastifyInstance } from 'fastify';
import { AppError } from '../../core/errors.ts';
import { agencyOf, fieldErrors, renderPage } from '../../core/http/render.ts';
import { requireUser } from '../../core/http/session.ts';
import { balancesOf, buildingAndManagerOfAccount } from '../accounts/accounts.repository.ts';
import { loadOwnAccount } from '../accounts/accounts.service.ts';
import { presentPayment } from './payment.presenter.ts';
import {
  computeStatement,
  presentStatement,
  presentStatementHeader,
  statementCsv,
  statementFileName,
} from './statements.presenter.ts';
import { balanceBefore, statementLines } from './statements.repository.ts';
import { periodSchema, type Period } from './statements.schemas.ts';
import { PaymentPage, StatementPage } from './statements.views.tsx';

export async function statementRoutes(app: FastifyInstance) {
  const { db } = app.deps;

  async function statementOf(accountId: number, period: Period) {
    // Two queries whatever the length: the balance carried from before the period, then its lines.
    const [opening, lines] = await Promise.all([
      period.du ? balanceBefore(db, accountId, period.du) : Promise.resolve(0),
      statementLines(db, accountId, { from: period.du, to: period.au }),
    ]);
    return computeStatement(lines, period, opening, app.deps.now());
  }

  app.get('/comptes/:id/extrait', { preHandler: requireUser }, async (req, reply) => {
    const account = await loadOwnAccount(app, req);
    const header = presentStatementHeader(account, await buildingAndManagerOfAccount(db, account.id));
    const query = (req.query ?? {}) as Record<string, unknown>;
    const parsed = periodSchema.safeParse(query);
    if (!parsed.success) {
      const typed = (v: unknown) => (typeof v === 'string' ? v.slice(0, 10) : '');
      return renderPage(
        req,
        reply,
        (ctx) => (
          <StatementPage
            ctx={ctx}
            account={header}
            du={typed(query.du)}
            au={typed(query.au)}
            errors={fieldErrors(parsed.error.issues)}
          />
        ),
        400,
      );
    }
    const period = parsed.data;
    const statement = presentStatement(header, period, await statementOf(account.id, period));
    return renderPage(req, reply, (ctx) => (
      <StatementPage ctx={ctx} account={header} du={period.du ?? ''} au={period.au ?? ''} statement={statement} />
    ));
  });

  app.get('/comptes/:id/extrait.csv', { preHandler: requireUser }, async (req, reply) => {
    const account = await loadOwnAccount(app, req);
    const parsed = periodSchema.safeParse(req.query ?? {});
    if (!parsed.success) {
      const message = parsed.error.issues.map((i) => i.message).join(' ');
      throw new AppError('bad_period', 'invalid statement period', message, 400);
    }
    const csv = statementCsv(await statementOf(account.id, parsed.data));
    return reply
      .header('content-type', 'text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="${statementFileName(account.reference, parsed.data)}"`)
      .header('cache-control', 'no-store')
      .send(csv);
  });

  app.get('/comptes/:id/payer', { preHandler: requireUser }, async (req, reply) => {
    const account = await loadOwnAccount(app, req);
    const [place, balances, agency] = await Promise.all([
      buildingAndManagerOfAccount(db, account.id),
      balancesOf(db, [account.id]),
      agencyOf(req),
    ]);
    const view = presentPayment({
      header: presentStatementHeader(account, place),
      kind: account.kind,
      balanceCents: balances.get(account.id) ?? 0,
      agency,
      manager: place ? { name: place.manager_name, email: place.manager_email, phone: place.manager_phone } : undefined,
    });
    return renderPage(req, reply, (ctx) => <PaymentPage ctx={ctx} view={view} />);
  });
}
