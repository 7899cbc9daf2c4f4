import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { AppError } from '../../core/errors.ts';
import { formatDate, todayInParis } from '../../core/format.ts';
import { idParam, queryField, queryInput, routeParams } from '../../core/http/input.ts';
import { fieldErrors, renderPage } from '../../core/http/render.ts';
import { requireUser } from '../../core/http/session.ts';
import { loadAccount } from '../accounts/accounts.service.ts';
import { presentPayment } from './payment.presenter.ts';
import { presentStatement, presentStatementHeader, statementCsv, statementFileName } from './statements.presenter.ts';
import { periodSchema } from './statements.schemas.ts';
import { lotLines, statementPdf } from './statements.pdf.ts';
import { accountStatement, paymentOf, statementDocument } from './statements.service.ts';
import { PaymentPage, StatementPage } from './statements.views.tsx';

const accountParams = z.object({ id: idParam });

export async function statementRoutes(app: FastifyInstance) {
  app.get('/comptes/:id/extrait', { preHandler: requireUser }, async (req, reply) => {
    const { id } = routeParams(req, accountParams);
    const parsed = queryInput(req, periodSchema);
    if (!parsed.success) {
      const { account, building } = await loadAccount(req.ctx, id, 'statement');
      const header = presentStatementHeader(account, building);
      const typed = (v: unknown) => (typeof v === 'string' ? v.slice(0, 10) : '');
      return renderPage(
        req,
        reply,
        (ctx) => (
          <StatementPage
            ctx={ctx}
            account={header}
            du={typed(queryField(req, 'du'))}
            au={typed(queryField(req, 'au'))}
            errors={fieldErrors(parsed.error.issues)}
          />
        ),
        400,
      );
    }
    const period = parsed.data;
    const { context, statement } = await accountStatement(req.ctx, id, period);
    const header = presentStatementHeader(context.account, context.building);
    const view = presentStatement(header, period, statement);
    return renderPage(req, reply, (ctx) => (
      <StatementPage ctx={ctx} account={header} du={period.du ?? ''} au={period.au ?? ''} statement={view} />
    ));
  });

  app.get('/comptes/:id/extrait.csv', { preHandler: requireUser }, async (req, reply) => {
    const { id } = routeParams(req, accountParams);
    const parsed = queryInput(req, periodSchema);
    if (!parsed.success) {
      await loadAccount(req.ctx, id, 'statement');
      const message = parsed.error.issues.map((i) => i.message).join(' ');
      throw new AppError('bad_period', 'invalid statement period', message, 400);
    }
    const { context, statement } = await accountStatement(req.ctx, id, parsed.data);
    return reply
      .header('content-type', 'text/csv; charset=utf-8')
      .header(
        'content-disposition',
        `attachment; filename="${statementFileName(context.account.reference, parsed.data)}"`,
      )
      .header('cache-control', 'no-store')
      .send(statementCsv(statement));
  });

  app.get('/comptes/:id/extrait.pdf', { preHandler: requireUser }, async (req, reply) => {
    const { id } = routeParams(req, accountParams);
    const parsed = queryInput(req, periodSchema);
    if (!parsed.success) {
      // Someone else's account answers 404 before the period is judged, as the CSV does.
      await loadAccount(req.ctx, id, 'statement');
      const message = parsed.error.issues.map((i) => i.message).join(' ');
      throw new AppError('bad_period', 'invalid statement period', message, 400);
    }
    const data = await statementDocument(req.ctx, id, parsed.data, app.deps.storage);
    const { account, building } = data.context;
    const view = presentStatement(presentStatementHeader(account, building), parsed.data, data.statement);
    const pdf = statementPdf({
      view,
      agency: data.agency,
      logo: data.logo,
      recipient: [
        view.account.holder,
        account.address,
        [account.postal_code, account.city].filter(Boolean).join(' '),
      ].filter((l): l is string => !!l),
      lots: lotLines(data.lots),
      issuedOn: formatDate(todayInParis(req.ctx.now())),
    });
    return reply
      .type('application/pdf')
      .header(
        'content-disposition',
        `attachment; filename="${statementFileName(account.reference, parsed.data, 'pdf')}"`,
      )
      .header('cache-control', 'no-store')
      .send(pdf);
  });

  app.get('/comptes/:id/payer', { preHandler: requireUser }, async (req, reply) => {
    const { id } = routeParams(req, accountParams);
    const { context, balanceCents, agency } = await paymentOf(req.ctx, id);
    const view = presentPayment({
      header: presentStatementHeader(context.account, context.building),
      kind: context.account.kind,
      balanceCents,
      agency,
      manager: context.manager ?? undefined,
    });
    return renderPage(req, reply, (ctx) => <PaymentPage ctx={ctx} view={view} />);
  });
}
