import type { PurgeCounts } from './maintenance.service.ts';

const number = new Intl.NumberFormat('fr-FR');

/** What `palier purger` prints, in French. */
export function describePurge(c: PurgeCounts): string[] {
  const lines: [string, number][] = [
    ['sessions terminées', c.sessions],
    ['compteurs de tentatives', c.attempts],
    ['liens à usage unique utilisés ou expirés', c.tokens],
    ['tickets de création d’espace expirés', c.claimTickets],
    ['tâches terminées depuis plus de 7 jours', c.doneJobs],
    ['tâches en échec depuis plus de 30 jours', c.failedJobs],
  ];
  return [
    'Données expirées supprimées\u00a0:',
    ...lines.map(([label, n]) => `  ${label}\u00a0: ${number.format(n)}`),
    'Le journal d’audit est conservé en entier.',
  ];
}
