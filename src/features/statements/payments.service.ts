import { randomInt } from 'node:crypto';
import type { CardPayments, PaymentNotification } from '../../adapters/payments/card-payments.ts';
import { paymentLimitCents } from '../../core/agency/agency.repository.ts';
import { writeAudit } from '../../core/audit.ts';
import { actorIp, clientId, inTransaction, type Ctx } from '../../core/context.ts';
import { AppError } from '../../core/errors.ts';
import { notFound } from '../../core/errors.ts';
import { formatMoney } from '../../core/format.ts';
import { loadAccount } from '../accounts/accounts.service.ts';
import { balancesOf } from '../accounts/accounts.repository.ts';
import * as repo from './payments.repository.ts';

/** No 0/O or 1/I/L: read aloud on the phone or copied from a bank statement without doubt. */
const REFERENCE_ALPHABET = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789';

/** "PL7K3M9Q2X": Palier's reference of one online payment, matched later in the ledger. */
export function newPaymentReference(): string {
  let ref = 'PL';
  for (let i = 0; i < 8; i++) ref += REFERENCE_ALPHABET[randomInt(REFERENCE_ALPHABET.length)];
  return ref;
}

/** Why an amount is refused, in French; null when it may be paid. */
export function amountProblem(cents: number, limitCents: number): string | null {
  if (cents <= 0) return 'Le montant doit être supérieur à 0,00\u00a0€.';
  if (cents > limitCents) return `Le montant ne peut pas dépasser ${formatMoney(limitCents)} en un paiement.`;
  return null;
}

/**
 * Opens a card payment: checks the amount against what is due and the agency's limit,
 * records it pending, then asks the provider for a checkout page. Returns its address.
 */
export async function startCardPayment(
  ctx: Ctx,
  accountId: number,
  amountCents: number,
  card: CardPayments,
): Promise<{ url: string }> {
  const { account } = await loadAccount(ctx, accountId, 'pay');
  const [balances, agency] = await Promise.all([balancesOf(ctx.db, [accountId]), ctx.agency.get()]);
  if ((balances.get(accountId) ?? 0) >= 0) {
    throw new AppError(
      'nothing_due',
      'card payment without a debt',
      'Votre compte ne présente pas de somme à régler.',
      400,
    );
  }
  const problem = amountProblem(amountCents, paymentLimitCents(agency));
  if (problem) throw new AppError('bad_amount', 'card payment amount refused', problem, 400);

  const reference = newPaymentReference();
  const at = ctx.now().toISOString();
  const userId = clientId(ctx);
  const id = await repo.insertPayment(ctx.db, { accountId, userId, amountCents, reference, at });
  const back = `${ctx.config.baseUrl}/comptes/${accountId}/payer/carte/${reference}`;
  try {
    const session = await card.createCheckout({
      amountCents,
      reference,
      description: `${agency.name} – compte N° ${account.reference}`,
      customerEmail: null,
      successUrl: back,
      cancelUrl: `${back}?abandon=1`,
    });
    await repo.setProviderSession(ctx.db, id, session.sessionId, ctx.now().toISOString());
    ctx.log.info({ paymentId: id, reference, amountCents }, 'card payment started');
    return { url: session.url };
  } catch (err) {
    await repo.transitionPayment(ctx.db, { id }, ['pending'], 'failed', ctx.now().toISOString());
    ctx.log.error({ paymentId: id, err: (err as Error).message }, 'checkout session not created');
    throw new AppError(
      'provider_unavailable',
      'checkout session not created',
      'Le paiement par carte est momentanément indisponible. Réessayez dans quelques minutes, ou payez par virement.',
      502,
    );
  }
}

/**
 * Records what the provider says happened, idempotently: a notification delivered twice (or
 * after a later one) finds the payment already in its state and changes nothing.
 */
export async function recordPaymentNotification(ctx: Ctx, n: PaymentNotification): Promise<void> {
  if (n.kind === 'ignored') return;
  const at = ctx.now().toISOString();
  await inTransaction(ctx, async (trx) => {
    const changed =
      n.kind === 'paid'
        ? // Paid wins over an earlier failed attempt or an abandon: the money is there.
          await repo.transitionPayment(
            trx.db,
            { sessionId: n.sessionId },
            ['pending', 'failed', 'abandoned'],
            'paid',
            at,
          )
        : n.kind === 'expired'
          ? await repo.transitionPayment(trx.db, { sessionId: n.sessionId }, ['pending', 'failed'], 'abandoned', at)
          : n.reference
            ? await repo.transitionPayment(trx.db, { reference: n.reference }, ['pending'], 'failed', at)
            : undefined;
    if (!changed) {
      ctx.log.info({ eventId: n.eventId, kind: n.kind }, 'payment notification changed nothing');
      return;
    }
    await writeAudit(trx.db, {
      action: `payment.${n.kind}`,
      outcome: n.kind === 'paid' ? 'success' : 'failure',
      userId: changed.user_id,
      accountId: changed.account_id,
      ip: actorIp(ctx.actor),
      at: ctx.now(),
      details: { reference: changed.reference, amountCents: changed.amount_cents, eventId: n.eventId },
    });
  });
}

/** The state of one of the person's card payments, for the page the provider sends them back to. */
export async function cardPaymentResult(ctx: Ctx, accountId: number, reference: string, abandoned: boolean) {
  const context = await loadAccount(ctx, accountId, 'pay');
  let payment = await repo.findPayment(ctx.db, accountId, reference);
  if (!payment) throw notFound();
  if (abandoned && payment.status === 'pending') {
    // The person came back with « Retour »: the session stays open at the provider until it
    // expires, and a payment made meanwhile still turns this into paid.
    await repo.transitionPayment(ctx.db, { id: payment.id }, ['pending'], 'abandoned', ctx.now().toISOString());
    payment = (await repo.findPayment(ctx.db, accountId, reference))!;
  }
  return { context, payment };
}

/** Confirmed online payments that the accounting import has not brought into the ledger yet. */
export function unreconciledPaymentsOf(ctx: Ctx, accountId: number) {
  return repo.unreconciledPayments(ctx.db, accountId);
}
