import { formatDate, formatIban, formatMoney, todayInParis } from '../../core/format.ts';
import { paymentLimitCents, type Agency } from '../../core/agency/agency.repository.ts';
import { epcPayload } from '../../core/payments/epc-qr.ts';
import type { PaymentStatus } from '../../db/schema.ts';
import { presentBalance, type BalanceView } from '../home/home.presenter.ts';
import type { StatementHeaderView } from './statements.presenter.ts';

export interface PaymentView {
  account: StatementHeaderView;
  balance: BalanceView;
  /** "1 378,20 €" when the account is debtor, else null: nothing to pay, and nothing is proposed. */
  due: string | null;
  /** The amount to pay now, chosen in the form (the amount due by default). */
  amount: { cents: number; text: string; formValue: string; limit: string; error: string | null };
  /** The paper that carries the reference and, when Palier has none, the bank details. */
  paperName: string;
  /** Whom a transfer or a cheque goes to: the building's syndicat for a copropriétaire, else the agency. */
  payee: string;
  /** The payee's bank account, when Palier knows it. */
  transfer: {
    holder: string;
    iban: string;
    bic: string | null;
    /** The EPC QR code's text: a banking app fills in the transfer from it. */
    qrPayload: string | null;
  } | null;
  reference: string;
  cheque: { payee: string; sendTo: string | null };
  slip: { name: string; reference: string; manager: string | null; amount: string };
  /** Card payment, when a payment provider is configured. */
  card: { action: string; amount: string; value: string } | null;
  manager: { name: string; email: string | null; phone: string | null } | null;
  contactHref: string;
}

const PAPER_NAMES = {
  coproprietaire: 'appel de fonds',
  locataire: 'avis d’échéance',
  proprietaire: 'relevé de gérance',
} as const;

/** 137820 → "1378,20": what the amount field shows, easy to edit (no thousands spaces). */
export function amountFormValue(cents: number): string {
  return `${Math.floor(cents / 100)},${String(cents % 100).padStart(2, '0')}`;
}

export function presentPayment(input: {
  header: StatementHeaderView;
  kind: 'coproprietaire' | 'locataire' | 'proprietaire';
  balanceCents: number;
  agency: Agency;
  syndicateBank: { iban: string | null; bic: string | null } | null;
  manager: { name: string | null; email: string | null; phone: string | null } | undefined;
  /** The amount asked in the form: its cents when valid, or the typed text and why it is refused. */
  asked?: { cents: number } | { typed: string; error: string };
  cardEnabled: boolean;
}): PaymentView {
  const { header, agency } = input;
  const dueCents = input.balanceCents < 0 ? -input.balanceCents : 0;
  const limit = paymentLimitCents(agency);
  const chosen = input.asked && 'cents' in input.asked ? input.asked.cents : Math.min(dueCents, limit);
  const amount = {
    cents: chosen,
    text: formatMoney(chosen),
    formValue: input.asked && 'typed' in input.asked ? input.asked.typed : amountFormValue(chosen),
    limit: formatMoney(limit),
    error: input.asked && 'error' in input.asked ? input.asked.error : null,
  };

  // A copropriétaire pays the syndicat of the building (its own legal entity, with its own
  // bank account), never the agency; a tenant or a landlord pays the agency's client account.
  const isCopro = input.kind === 'coproprietaire' && header.buildingName !== null;
  const payee = isCopro ? `Syndicat des copropriétaires ${header.buildingName}` : agency.name;
  const bank = isCopro
    ? input.syndicateBank?.iban
      ? { iban: input.syndicateBank.iban, bic: input.syndicateBank.bic }
      : null
    : agency.iban
      ? { iban: agency.iban, bic: agency.bic }
      : null;
  const due = dueCents > 0 ? formatMoney(dueCents) : null;
  const manager = input.manager?.name
    ? { name: input.manager.name, email: input.manager.email, phone: input.manager.phone }
    : null;
  return {
    account: header,
    balance: presentBalance(input.balanceCents),
    due,
    amount,
    paperName: PAPER_NAMES[input.kind],
    payee,
    transfer: bank
      ? {
          holder: payee,
          iban: formatIban(bank.iban),
          bic: bank.bic,
          qrPayload:
            due && !amount.error
              ? epcPayload({
                  bic: bank.bic,
                  name: payee,
                  iban: bank.iban,
                  amountCents: amount.cents,
                  remittance: header.reference,
                })
              : null,
        }
      : null,
    reference: header.reference,
    cheque: { payee, sendTo: agency.address ? `${agency.name}, ${agency.address}` : null },
    slip: { name: header.holder, reference: header.reference, manager: manager?.name ?? null, amount: amount.text },
    // Until the amount typed is corrected, nothing offers to pay another one.
    card:
      input.cardEnabled && due && !amount.error
        ? { action: `/comptes/${header.id}/payer/carte`, amount: amount.text, value: amountFormValue(amount.cents) }
        : null,
    manager,
    contactHref: `/comptes/${header.id}/contact`,
  };
}

// ---- The page the payment provider sends the person back to

export interface CardResultView {
  account: StatementHeaderView;
  status: PaymentStatus;
  title: string;
  message: string;
  amount: string;
  reference: string;
  date: string;
  selfHref: string;
  payHref: string;
  statementHref: string;
}

const RESULT_TEXTS: Record<PaymentStatus, { title: string; message: string }> = {
  pending: {
    title: 'Paiement en cours de confirmation',
    message:
      'Nous attendons la confirmation de notre prestataire de paiement. Elle arrive en général en quelques secondes : actualisez cette page.',
  },
  paid: {
    title: 'Paiement reçu',
    message:
      'Merci. Votre paiement est confirmé. Il apparaît sur votre extrait de compte comme « Paiement en ligne (en cours de rapprochement) » jusqu’à son enregistrement en comptabilité.',
  },
  failed: {
    title: 'Le paiement a échoué',
    message: 'Votre banque a refusé le paiement, ou il n’a pas pu aboutir. Aucun montant n’a été débité.',
  },
  abandoned: {
    title: 'Paiement abandonné',
    message: 'Le paiement n’a pas été effectué. Aucun montant n’a été débité.',
  },
};

export function presentCardResult(
  header: StatementHeaderView,
  p: { status: PaymentStatus; amount_cents: number; reference: string; created_at: string },
): CardResultView {
  const texts = RESULT_TEXTS[p.status];
  return {
    account: header,
    status: p.status,
    title: texts.title,
    message: texts.message,
    amount: formatMoney(p.amount_cents),
    reference: p.reference,
    date: formatDate(todayInParis(new Date(p.created_at))),
    selfHref: `/comptes/${header.id}/payer/carte/${p.reference}`,
    payHref: `/comptes/${header.id}/payer`,
    statementHref: `/comptes/${header.id}/extrait`,
  };
}

// ---- Confirmed online payments not in the ledger yet (shown above the statement)

export interface PendingPaymentView {
  date: string;
  label: string;
  amount: string;
  reference: string;
}

export function presentUnreconciled(
  list: { reference: string; amount_cents: number; updated_at: string }[],
): PendingPaymentView[] {
  return list.map((p) => ({
    date: formatDate(todayInParis(new Date(p.updated_at))),
    label: 'Paiement en ligne (en cours de rapprochement)',
    amount: formatMoney(p.amount_cents),
    reference: p.reference,
  }));
}
