import { formatIban, formatMoney } from '../../core/format.ts';
import type { Agency } from '../../core/agency/agency.repository.ts';
import { presentBalance, type BalanceView } from '../home/home.presenter.ts';
import type { StatementHeaderView } from './statements.presenter.ts';

export interface PaymentView {
  account: StatementHeaderView;
  balance: BalanceView;
  /** "1 378,20 €" when the account is debtor, else null: nothing to pay. */
  due: string | null;
  /** The paper that carries the reference and, when Palier has none, the bank details. */
  paperName: string;
  transfer: { holder: string; iban: string; bic: string | null } | null;
  cheque: { payee: string; sendTo: string | null };
  slip: { name: string; reference: string; manager: string | null; amount: string };
  manager: { name: string; email: string | null; phone: string | null } | null;
  contactHref: string;
}

const PAPER_NAMES = {
  coproprietaire: 'appel de fonds',
  locataire: 'avis d’échéance',
  proprietaire: 'relevé de gérance',
} as const;

export function presentPayment(input: {
  header: StatementHeaderView;
  kind: 'coproprietaire' | 'locataire' | 'proprietaire';
  balanceCents: number;
  agency: Agency;
  manager: { name: string | null; email: string | null; phone: string | null } | undefined;
}): PaymentView {
  const { header, agency } = input;
  const due = input.balanceCents < 0 ? formatMoney(-input.balanceCents) : null;
  // A copropriétaire pays the syndicat of the building (its own legal entity), a tenant the agency.
  const payee =
    input.kind === 'coproprietaire' && header.buildingName
      ? `Syndicat des copropriétaires ${header.buildingName}`
      : agency.name;
  const manager = input.manager?.name
    ? { name: input.manager.name, email: input.manager.email, phone: input.manager.phone }
    : null;
  return {
    account: header,
    balance: presentBalance(input.balanceCents),
    due,
    paperName: PAPER_NAMES[input.kind],
    transfer: agency.iban ? { holder: agency.name, iban: formatIban(agency.iban), bic: agency.bic } : null,
    cheque: { payee, sendTo: agency.address ? `${agency.name}, ${agency.address}` : null },
    slip: {
      name: header.holder,
      reference: header.reference,
      manager: manager?.name ?? null,
      amount: due ?? 'le montant de votre versement',
    },
    manager,
    contactHref: `/comptes/${header.id}/contact`,
  };
}
