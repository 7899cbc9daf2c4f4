import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { InvalidSignature } from '../../adapters/payments/card-payments.ts';
import { qrPngDataUrl } from '../../adapters/qr/qr.ts';
import { paymentLimitCents } from '../../core/agency/agency.repository.ts';
import { AppError, notFound } from '../../core/errors.ts';
import { formatDate, todayInParis } from '../../core/format.ts';
import { bodyField, idParam, queryField, queryInput, routeParams } from '../../core/http/input.ts';
import { PAGE_SLOT, fieldErrors, renderPage, renderPageWithSlot } from '../../core/http/render.ts';
import { requireUser } from '../../core/http/session.ts';
import { loadAccount } from '../accounts/accounts.service.ts';
import { parseEuros } from '../agency/agency.service.ts';
import { presentCardResult, presentPayment, presentUnreconciled } from './payment.presenter.ts';
import { amountProblem, cardPaymentResult, recordPaymentNotification, startCardPayment } from './payments.service.ts';
import { presentStatement, presentStatementHeader, statementCsv, statementFileName } from './statements.presenter.ts';
import { periodSchema } from './statements.schemas.ts';
import { lotLines, statementPdf } from './statements.pdf.ts';
import { accountStatement, paymentOf, statementDocument } from './statements.service.ts';
import { CardResultPage, PaymentPage, StatementPage, statementBodyBytes } from './statements.views.tsx';

const accountParams = z.object({ id: idParam });
const cardResultParams = z.object({ id: idParam, reference: z.string().regex(/^PL[A-Z0-9]{8}$/) });

/** The amount typed in « Montant à payer », if any: its cents, or what was typed and why it is refused. */
function askedAmount(
  raw: unknown,
  limitCents: number,
): { cents: number } | { typed: string; error: string } | undefined {
  if (typeof raw !== 'string' || raw.trim() === '') return undefined;
  const typed = raw.slice(0, 20);
  const cents = parseEuros(raw.trim());
  if (cents === null) return { typed, error: 'Saisissez un montant en euros, par exemple 1378,20.' };
  const problem = amountProblem(cents, limitCents);
  return problem ? { typed, error: problem } : { cents };
}

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
    const { context, statement, unreconciled } = await accountStatement(req.ctx, id, period);
    const header = presentStatementHeader(context.account, context.building);
    const view = presentStatement(header, period, statement);
    const pending = presentUnreconciled(unreconciled);
    return renderPageWithSlot(
      req,
      reply,
      (ctx) => (
        <StatementPage
          ctx={ctx}
          account={header}
          du={period.du ?? ''}
          au={period.au ?? ''}
          statement={view}
          pending={pending}
          bodySlot={PAGE_SLOT}
        />
      ),
      statementBodyBytes(view),
    );
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
      pending: presentUnreconciled(data.unreconciled),
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
    const { context, balanceCents, agency, syndicateBank } = await paymentOf(req.ctx, id);
    const asked = askedAmount(queryField(req, 'montant'), paymentLimitCents(agency));
    const view = presentPayment({
      header: presentStatementHeader(context.account, context.building),
      kind: context.account.kind,
      balanceCents,
      agency,
      syndicateBank,
      manager: context.manager ?? undefined,
      asked,
      cardEnabled: app.deps.cardPayments !== null,
    });
    const qr = view.transfer?.qrPayload ? await qrPngDataUrl(view.transfer.qrPayload) : null;
    const status = asked && 'error' in asked ? 400 : 200;
    return renderPage(req, reply, (ctx) => <PaymentPage ctx={ctx} view={view} qr={qr} />, status);
  });

  app.post('/comptes/:id/payer/carte', { preHandler: requireUser }, async (req, reply) => {
    const { id } = routeParams(req, accountParams);
    const card = app.deps.cardPayments;
    // Without a configured provider there is no card payment at all, not a pretend one.
    if (!card) throw notFound();
    const raw = bodyField(req, 'montant');
    const cents = typeof raw === 'string' ? parseEuros(raw.trim()) : null;
    if (cents === null) {
      // Back to the form, which says what is wrong with the amount.
      await loadAccount(req.ctx, id, 'pay');
      const typed = typeof raw === 'string' ? raw.slice(0, 20) : '';
      return reply.redirect(`/comptes/${id}/payer?${new URLSearchParams({ montant: typed || '0' })}`, 303);
    }
    const { url } = await startCardPayment(req.ctx, id, cents, card);
    return reply.redirect(url, 303);
  });

  app.get('/comptes/:id/payer/carte/:reference', { preHandler: requireUser }, async (req, reply) => {
    const { id, reference } = routeParams(req, cardResultParams);
    const abandoned = queryField(req, 'abandon') === '1';
    const { context, payment } = await cardPaymentResult(req.ctx, id, reference, abandoned);
    if (abandoned) return reply.redirect(`/comptes/${id}/payer/carte/${reference}`, 303);
    const view = presentCardResult(presentStatementHeader(context.account, context.building), payment);
    return renderPage(req, reply, (ctx) => <CardResultPage ctx={ctx} view={view} />);
  });

  // The payment provider's notifications: a raw body (its signature covers the exact bytes),
  // in a scope of its own so no other route reads bodies this way.
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: 256 * 1024 }, (_req, body, done) => {
      done(null, body);
    });
    scope.post('/paiements/stripe/webhook', { config: { csrfExempt: 'provider-signature' } }, async (req, reply) => {
      const card = app.deps.cardPayments;
      if (!card) return reply.callNotFound();
      const signature = req.headers['stripe-signature'];
      let notification;
      try {
        notification = card.readNotification(
          Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0),
          typeof signature === 'string' ? signature : undefined,
        );
      } catch (err) {
        if (!(err instanceof InvalidSignature)) throw err;
        req.log.warn({ err: err.message }, 'payment notification with a bad signature');
        return reply.code(400).type('application/json').send({ error: 'invalid signature' });
      }
      await recordPaymentNotification(req.ctx, notification);
      return reply.type('application/json').send({ received: true });
    });
  });
}
