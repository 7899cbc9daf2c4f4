import { formatDate, formatDateLong, todayInParis } from '../../core/format.ts';
import type { AccountContactColumn } from '../accounts/accounts.repository.ts';
import { COLUMN_LABELS } from '../accounts/accounts.presenter.ts';
import type { FecSummary } from './fec.service.ts';
import type { EcrituresSummary, KeptClientChange, ReferentielSummary } from './imports.service.ts';

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
  if (s.clientChangesTakenIn > 0) {
    lines.push(
      `Corrections faites par les clients et reprises dans ce fichier\u00a0: ${integer.format(s.clientChangesTakenIn)} (plus en attente).`,
    );
  }
  if (s.keptClientChanges.length > 0) {
    lines.push(
      `Champs corrigés par les clients et pas encore repris par l’agence, laissés tels quels (${n(s.keptClientChanges.length, 'compte', 'comptes')})\u00a0:`,
    );
    for (const k of s.keptClientChanges) lines.push(`  ${describeKeptChange(k)}`);
    lines.push(
      'Pour les reporter dans le logiciel de l’agence puis les marquer traitées\u00a0: npx palier coordonnees export corrections.csv --marquer-traitees',
    );
  }
  return lines;
}

const FEMININE = new Set<AccountContactColumn>(['civility', 'address', 'city']);

/** « Compte C0042 : téléphone, adresse laissés tels que le client les a corrigés (modification du 3 décembre 2026 en attente) » */
export function describeKeptChange(k: KeptClientChange): string {
  const names = k.fields.map((f) => COLUMN_LABELS[f].toLowerCase()).join(', ');
  const feminine = k.fields.every((f) => FEMININE.has(f));
  const agreement =
    k.fields.length > 1
      ? feminine
        ? 'laissées telles que le client les a corrigées'
        : 'laissés tels que le client les a corrigés'
      : feminine
        ? 'laissée telle que le client l’a corrigée'
        : 'laissé tel que le client l’a corrigé';
  const day = formatDateLong(todayInParis(new Date(k.changedAt)));
  return `Compte ${k.reference}\u00a0: ${names} ${agreement} (modification du ${day} en attente)`;
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
