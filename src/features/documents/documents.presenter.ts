import { formatDate } from '../../core/format.ts';
import type { DocumentScope } from '../../db/schema.ts';
import type { AccountSummary } from '../accounts/accounts.views.tsx';
import { categoryOf, categoryRank } from './categories.ts';
import { canSeeSpace, type DocumentViewer } from './documents.policies.ts';
import { extensionOf, formatSize, INLINE_TYPES } from './files.ts';

export interface DocumentRowView {
  id: number;
  title: string;
  /** dd/mm/yyyy */
  date: string;
  /** « PDF, 1,2 Mo » */
  typeAndSize: string;
  isNew: boolean;
  downloadHref: string;
  /** Only for what a browser shows by itself (PDF, images). */
  viewHref: string | null;
}

export interface DocumentGroupView {
  code: string;
  label: string;
  documents: DocumentRowView[];
}

export interface SpaceTabView {
  label: string;
  href: string;
  selected: boolean;
}

export interface SpacePageView {
  account: AccountSummary;
  title: string;
  intro: string;
  tabs: SpaceTabView[];
  groups: DocumentGroupView[];
  empty: string;
}

const PAGE_TITLES: Record<DocumentScope, string> = {
  account: 'Mes documents',
  building: 'Documents de l’immeuble',
  council: 'Documents du conseil syndical',
};

const INTROS: Record<DocumentScope, string> = {
  account: 'Les documents propres à ce compte\u00a0: compte individuel, appels de fonds, charges payées, courriers.',
  building:
    'Les documents de la copropriété mis à disposition par le syndic\u00a0: règlement, fiche synthétique, contrats, procès-verbaux d’assemblée générale…',
  council: 'Les documents réservés aux membres du conseil syndical.',
};

const TAB_LABELS: Record<DocumentScope, string> = {
  account: 'Documents privés',
  building: 'Documents de l’immeuble',
  council: 'Conseil syndical',
};

export function spaceHref(accountId: number, space: DocumentScope): string {
  const base = `/comptes/${accountId}/documents`;
  return space === 'account' ? base : `${base}/${space === 'building' ? 'immeuble' : 'conseil'}`;
}

interface ListedDocument {
  id: number;
  category: string;
  title: string;
  document_date: string;
  size_bytes: number;
  content_type: string;
  read_at: string | null;
}

function typeLabel(contentType: string): string {
  const ext = extensionOf(contentType);
  return ext === 'jpg' ? 'JPEG' : ext.toUpperCase();
}

export function presentSpace(input: {
  viewer: DocumentViewer;
  account: AccountSummary;
  space: DocumentScope;
  documents: ListedDocument[];
}): SpacePageView {
  const { viewer, account, space } = input;
  const groups = new Map<string, DocumentGroupView>();
  // Rows come newest first: each group keeps that order.
  for (const d of input.documents) {
    let g = groups.get(d.category);
    if (!g) {
      g = { code: d.category, label: categoryOf(d.category)?.label ?? d.category, documents: [] };
      groups.set(d.category, g);
    }
    const href = `/comptes/${account.id}/documents/${d.id}`;
    g.documents.push({
      id: d.id,
      title: d.title,
      date: formatDate(d.document_date),
      typeAndSize: `${typeLabel(d.content_type)}, ${formatSize(d.size_bytes)}`,
      isNew: d.read_at === null,
      downloadHref: href,
      viewHref: INLINE_TYPES.has(d.content_type) ? `${href}/voir` : null,
    });
  }
  return {
    account,
    title: PAGE_TITLES[space],
    intro: INTROS[space],
    tabs: (['account', 'building', 'council'] as const)
      .filter((s) => canSeeSpace(s, viewer))
      .map((s) => ({ label: TAB_LABELS[s], href: spaceHref(account.id, s), selected: s === space })),
    groups: [...groups.values()].sort((a, b) => categoryRank(a.code) - categoryRank(b.code)),
    empty:
      space === 'building' && viewer.kind === 'locataire'
        ? 'Aucun document de l’immeuble n’est mis à la disposition des locataires pour le moment.'
        : 'Aucun document pour le moment.',
  };
}
