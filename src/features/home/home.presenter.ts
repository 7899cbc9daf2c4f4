import { formatAddress, formatMoney, fullName, plural } from '../../core/format.ts';
import type { AccountKind, CouncilRole } from '../../db/schema.ts';
import { accountTitle } from '../accounts/accounts.presenter.ts';
import { canSeeCouncil } from '../accounts/accounts.policies.ts';
import type { DocumentCounts } from '../documents/documents.service.ts';
import { canSeeSpace } from '../documents/documents.policies.ts';

/** Tabs appear in this order, whatever order the accounts were attached in. */
export const ACCOUNT_KINDS: readonly AccountKind[] = ['coproprietaire', 'locataire', 'proprietaire'];

const TAB_LABELS: Record<AccountKind, string> = {
  coproprietaire: 'Comptes copropriétaires',
  locataire: 'Comptes locataires',
  proprietaire: 'Comptes propriétaires',
};

export interface BalanceView {
  cents: number;
  /** "-1 378,20 €": the sign stays, as on the agency's statements. */
  amount: string;
  label: 'Solde débiteur' | 'Solde créditeur' | 'Solde nul';
  tone: 'debit' | 'credit' | 'zero';
}

/** Balance = credits − debits; negative means the client owes money. */
export function presentBalance(cents: number): BalanceView {
  if (cents < 0) return { cents, amount: formatMoney(cents), label: 'Solde débiteur', tone: 'debit' };
  if (cents > 0) return { cents, amount: formatMoney(cents), label: 'Solde créditeur', tone: 'credit' };
  return { cents, amount: formatMoney(0), label: 'Solde nul', tone: 'zero' };
}

export interface LotRow {
  account_id: number;
  number: string;
  type: string | null;
  description: string | null;
}

/** "4 pièces (Lot 0006) - Appartement", as on the appel de fonds. */
export function lotLine(lot: Pick<LotRow, 'number' | 'type' | 'description'>): string {
  const head = lot.description ? `${lot.description} (Lot ${lot.number})` : `Lot ${lot.number}`;
  return lot.type ? `${head} - ${lot.type}` : head;
}

// Lot numbers are text: "6" must come before "12" even when the agency does not pad them.
const lotOrder = new Intl.Collator('fr', { numeric: true });

export interface HomeAccountRow {
  id: number;
  reference: string;
  kind: AccountKind;
  council_role: CouncilRole | null;
  building_id: number | null;
  building_name: string | null;
  building_address: string | null;
  building_postal_code: string | null;
  building_city: string | null;
}

export interface AccountCardView {
  id: number;
  reference: string;
  numberLabel: string;
  lots: string[];
  buildingName: string | null;
  buildingAddress: string;
  privateDocuments: string;
  /** Null for an account with no building space (propriétaire bailleur). */
  publicDocuments: string | null;
  councilDocuments: string | null;
  balance: BalanceView;
  links: {
    statement: string;
    pay: string;
    details: string;
    council: string | null;
    contact: string;
    documents: string;
    buildingDocuments: string | null;
    councilDocuments: string | null;
  };
}

export interface HomeTabView {
  kind: AccountKind;
  label: string;
  href: string;
  selected: boolean;
}

export interface HomeView {
  welcomeName: string;
  tabs: HomeTabView[];
  selectedLabel: string | null;
  accounts: AccountCardView[];
}

export function kindsHeld(accounts: { kind: AccountKind }[]): AccountKind[] {
  return ACCOUNT_KINDS.filter((k) => accounts.some((a) => a.kind === k));
}

/** The tab asked for if the person holds that kind of account, else the first kind held. */
export function selectedKind(
  accounts: { kind: AccountKind }[],
  requested: AccountKind | undefined,
): AccountKind | undefined {
  const held = kindsHeld(accounts);
  return requested && held.includes(requested) ? requested : held[0];
}

/**
 * Turns the rows of the home page into what the view shows. `lots` and `balances` need only
 * cover the accounts of the selected tab.
 */
export function presentHome(input: {
  user: { firstName: string; lastName: string };
  accounts: HomeAccountRow[];
  lots: LotRow[];
  balances: Map<number, number>;
  /** Current documents each account's person may see, per space; absent: none. */
  documentCounts?: Map<number, DocumentCounts>;
  requestedKind: AccountKind | undefined;
}): HomeView {
  const held = kindsHeld(input.accounts);
  const selected = selectedKind(input.accounts, input.requestedKind);

  const lotsByAccount = new Map<number, LotRow[]>();
  for (const lot of input.lots) {
    const list = lotsByAccount.get(lot.account_id);
    if (list) list.push(lot);
    else lotsByAccount.set(lot.account_id, [lot]);
  }

  const accounts = input.accounts
    .filter((a) => a.kind === selected)
    .map((a): AccountCardView => {
      const lots = [...(lotsByAccount.get(a.id) ?? [])].sort((x, y) => lotOrder.compare(x.number, y.number));
      const base = `/comptes/${a.id}`;
      const docs = input.documentCounts?.get(a.id) ?? { account: 0, building: 0, council: 0 };
      const viewer = { ...a, holds: true };
      const hasBuilding = canSeeSpace('building', viewer);
      const isCouncil = canSeeSpace('council', viewer);
      return {
        id: a.id,
        reference: a.reference,
        numberLabel: accountTitle(a),
        lots: lots.map(lotLine),
        buildingName: a.building_name,
        buildingAddress: formatAddress(a.building_address, a.building_postal_code, a.building_city),
        privateDocuments: plural(docs.account, 'document privé', 'documents privés'),
        publicDocuments: hasBuilding ? plural(docs.building, 'document public', 'documents publics') : null,
        councilDocuments: isCouncil ? plural(docs.council, 'document du conseil', 'documents du conseil') : null,
        balance: presentBalance(input.balances.get(a.id) ?? 0),
        links: {
          statement: `${base}/extrait`,
          pay: `${base}/payer`,
          details: `${base}/coordonnees`,
          council: canSeeCouncil(a) ? `${base}/conseil-syndical` : null,
          contact: `${base}/contact`,
          documents: `${base}/documents`,
          buildingDocuments: hasBuilding ? `${base}/documents/immeuble` : null,
          councilDocuments: isCouncil ? `${base}/documents/conseil` : null,
        },
      };
    });

  return {
    welcomeName: fullName(input.user.firstName, input.user.lastName),
    tabs: held.map((k) => ({
      kind: k,
      label: TAB_LABELS[k],
      href: `/accueil?onglet=${k}`,
      selected: k === selected,
    })),
    selectedLabel: selected ? TAB_LABELS[selected] : null,
    accounts,
  };
}
