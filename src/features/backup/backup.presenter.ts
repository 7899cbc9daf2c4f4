import { formatInstantLong, plural } from '../../core/format.ts';
import { formatKeyId } from './backup-key.ts';
import type { BackupSummary, RestoreSummary } from './backup.service.ts';
import type { Manifest } from './manifest.ts';

const integer = new Intl.NumberFormat('fr-FR');
const decimal = new Intl.NumberFormat('fr-FR', { maximumFractionDigits: 1 });

/** 1536 → "1,5 Ko" (units of 1024, as file managers show them). */
export function formatBytes(bytes: number): string {
  const units = ['octets', 'Ko', 'Mo', 'Go', 'To'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0
    ? `${integer.format(bytes)} ${bytes > 1 ? 'octets' : 'octet'}`
    : `${decimal.format(value)} ${units[unit]}`;
}

function databaseLine(m: Manifest): string {
  const tables = Object.keys(m.tables).length;
  const rows = Object.values(m.tables).reduce((a, b) => a + b, 0);
  const engine = m.dialect === 'sqlite' ? 'SQLite' : 'PostgreSQL';
  return `  Base ${engine} : ${plural(tables, 'table', 'tables')}, ${integer.format(rows)} ${rows > 1 ? 'lignes' : 'ligne'}, ${plural(m.migrations.length, 'migration appliquée', 'migrations appliquées')}.`;
}

export function describeBackup(s: BackupSummary): string[] {
  return [
    `Sauvegarde écrite dans « ${s.file} » (${formatBytes(s.bytes)}).`,
    databaseLine(s.manifest),
    `  Fichiers : ${plural(s.manifest.file_count, 'fichier stocké', 'fichiers stockés')}, et secrets.json.`,
    'Cette archive contient les données des clients et les clés secrètes de Palier (secrets.json) :',
    'conservez-la hors du serveur, chiffrée, lisible par vous seul (elle est créée avec les droits 0600).',
    ...(s.key.created
      ? [
          `Nouvelle clé de sauvegarde créée\u00a0: «\u00a0${s.key.file}\u00a0» (empreinte ${formatKeyId(s.key.id)}).`,
          'Copiez-la dès maintenant hors du serveur (coffre, gestionnaire de mots de passe)\u00a0: sans elle, aucune de ses sauvegardes ne peut être restaurée.',
        ]
      : [
          `Signée avec la clé de sauvegarde «\u00a0${s.key.file}\u00a0» (empreinte ${formatKeyId(s.key.id)})\u00a0: seule une copie de cette clé permet de la restaurer.`,
        ]),
  ];
}

export function describeRestore(s: RestoreSummary): string[] {
  const m = s.manifest;
  return [
    `Sauvegarde du ${formatInstantLong(m.created_at)} (Palier ${m.palier_version}) restaurée${s.replaced ? ' en remplacement des données présentes' : ''}.`,
    databaseLine(m).replace(
      /\.$/,
      m.dialect === 'sqlite' ? ` — dans « ${s.databaseTarget} ».` : ' — dans la base PostgreSQL de DATABASE_URL.',
    ),
    `  Fichiers : ${plural(m.file_count, 'fichier', 'fichiers')} dans « ${s.filesDir} », et secrets.json.`,
    `  Signature vérifiée avec la clé de sauvegarde «\u00a0${s.key.file}\u00a0» (empreinte ${formatKeyId(s.key.id)}).`,
    ...(s.key.installed
      ? [
          `  Clé copiée dans «\u00a0${s.key.installed}\u00a0»\u00a0: les prochaines sauvegardes de ce serveur l’utiliseront.`,
        ]
      : []),
    'Sommes de contrôle et nombres de lignes vérifiés. Démarrez Palier (npm start) : il appliquera les migrations plus récentes éventuelles.',
  ];
}
