import { formatDate } from '../../core/format.ts';
import type { FecSummary } from './fec.service.ts';
import type { EcrituresSummary, ReferentielSummary } from './imports.service.ts';

const integer = new Intl.NumberFormat('fr-FR');

/** "1 000 000 lignes", "1 compte", "0 modifié". */
function n(count: number, singular: string, plural: string): string {
  return `${integer.format(count)} ${count > 1 ? plural : singular}`;
}

/** "8 comptes (3 créés, 1 modifié, 4 inchangés), 2 immeubles, …" */
export function describeReferentielSummary(s: ReferentielSummary): string[] {
  const unchanged = s.accounts - s.accountsCreated - s.accountsUpdated;
  const lines = [
    `Référentiel importé : ${n(s.rows, 'ligne lue', 'lignes lues')}.`,
    `  Comptes : ${integer.format(s.accounts)} (${n(s.accountsCreated, 'créé', 'créés')}, ${n(s.accountsUpdated, 'modifié', 'modifiés')}, ${n(unchanged, 'inchangé', 'inchangés')}).`,
    `  Immeubles : ${integer.format(s.buildings)} (${n(s.buildingsCreated, 'créé', 'créés')}, ${n(s.buildingsUpdated, 'modifié', 'modifiés')}).`,
    `  Lots : ${integer.format(s.lots)} (${n(s.lotsCreated, 'créé', 'créés')}, ${n(s.lotsUpdated, 'modifié', 'modifiés')}) ; rattachements : ${integer.format(s.linksAdded)} ajouté${s.linksAdded > 1 ? 's' : ''}, ${integer.format(s.linksRemoved)} retiré${s.linksRemoved > 1 ? 's' : ''}.`,
    `  Gestionnaires : ${s.managers} (${n(s.managersCreated, 'créé', 'créés')}, ${n(s.managersUpdated, 'modifié', 'modifiés')}).`,
    `  Codes d’accès : ${n(s.codesImported, 'repris du fichier', 'repris du fichier')}, ${n(s.codesCreated, 'créé par Palier', 'créés par Palier')}.`,
  ];
  if (s.codesCreated > 0) {
    lines.push('Pour imprimer les codes créés par Palier : npx palier codes export codes.csv');
  }
  return lines;
}

export function describeEcrituresSummary(s: EcrituresSummary): string[] {
  return [
    `Écritures importées : ${n(s.lines, 'ligne', 'lignes')} pour ${n(s.accounts, 'compte', 'comptes')} (leurs écritures précédentes ont été remplacées).`,
  ];
}

export function describeFecSummary(s: FecSummary): string[] {
  const lines = [
    `FEC importé pour l’immeuble « ${s.building.code} » (${s.building.name})\u00a0: ${n(s.rows, 'ligne lue', 'lignes lues')}, du ${formatDate(s.period.from)} au ${formatDate(s.period.to)}.`,
    `  Lignes des comptes clients\u00a0: ${integer.format(s.clientLines)} pour ${n(s.accounts, 'compte', 'comptes')}, dont ${n(s.openingLines, 'solde à nouveau', 'soldes à nouveau')}\u202f; ${n(s.replaced, 'ligne précédente remplacée', 'lignes précédentes remplacées')} sur cette période.`,
  ];
  if (s.ignored.length > 0) {
    lines.push(`  Comptes inconnus ignorés (${integer.format(s.ignored.length)})\u00a0:`);
    for (const i of s.ignored) {
      lines.push(`    ${i.reference} (${n(i.lines, 'ligne', 'lignes')}, première ligne ${i.line})`);
    }
  }
  return lines;
}
