import { frenchCsv } from '../../core/csv.ts';
import type { Holding, SpacesReport } from './spaces.service.ts';

const PARIS = new Intl.DateTimeFormat('fr-FR', {
  timeZone: 'Europe/Paris',
  day: '2-digit',
  month: '2-digit',
  year: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
});

/** "29/03/2026 14:05", Paris time: short enough for a table, read as a date by spreadsheets. */
function when(iso: string): string {
  const p = Object.fromEntries(PARIS.formatToParts(new Date(iso)).map((x) => [x.type, x.value]));
  return `${p.day}/${p.month}/${p.year} ${p.hour}:${p.minute}`;
}

function person(h: Holding): string {
  return [h.person.civility, h.person.firstName, h.person.lastName].filter((s) => s && s.trim()).join(' ');
}

const HEADERS = ['Référence', 'Immeuble', 'Titulaire', 'Email', 'Confirmé', 'Rattaché le', 'Dernière connexion'];

/** A table for the terminal: one line per person holding an account, the account named once. */
export function describeSpaces(r: SpacesReport): string[] {
  const scope = r.building ? ` de l’immeuble «\u00a0${r.building.code}\u00a0» (${r.building.name})` : '';
  const withSpace = new Set(r.holdings.map((h) => h.reference)).size;
  const title = `Espaces clients${scope}\u00a0: ${withSpace} compte${withSpace > 1 ? 's' : ''} sur ${r.accounts} rattaché${withSpace > 1 ? 's' : ''} à un espace, ${r.holdings.length} rattachement${r.holdings.length > 1 ? 's' : ''}.`;
  if (r.holdings.length === 0) return [title];
  const rows = r.holdings.map((h, i) => {
    const same = i > 0 && r.holdings[i - 1]!.reference === h.reference;
    return [
      same ? '' : h.reference,
      same ? '' : (h.building?.code ?? '—'),
      person(h) || '—',
      h.person.email,
      h.person.confirmed ? 'oui' : 'non',
      when(h.linkedAt),
      h.lastSignInAt ? when(h.lastSignInAt) : '—',
    ];
  });
  const widths = HEADERS.map((head, c) => Math.max(head.length, ...rows.map((row) => row[c]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, c) => cell.padEnd(widths[c]!))
      .join('  ')
      .trimEnd();
  return [title, '', line(HEADERS), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
}

const SPACES_CSV_COLUMNS = {
  reference: { header: 'reference', type: 'text' },
  buildingCode: { header: 'immeuble_code', type: 'text' },
  buildingName: { header: 'immeuble_nom', type: 'text' },
  civility: { header: 'civilite', type: 'text' },
  lastName: { header: 'nom', type: 'text' },
  firstName: { header: 'prenom', type: 'text' },
  email: { header: 'email', type: 'text' },
  confirmed: { header: 'email_confirme', type: 'text' },
  linkedAt: { header: 'rattache_le', type: 'text' },
  lastSignInAt: { header: 'derniere_connexion', type: 'text' },
} as const;

/** The same, one line per (account, person), for a spreadsheet. */
export function spacesToCsv(r: SpacesReport): string {
  return frenchCsv(
    r.holdings.map((h) => ({
      reference: h.reference,
      buildingCode: h.building?.code,
      buildingName: h.building?.name,
      civility: h.person.civility,
      lastName: h.person.lastName,
      firstName: h.person.firstName,
      email: h.person.email,
      confirmed: h.person.confirmed ? 'oui' : 'non',
      linkedAt: when(h.linkedAt),
      lastSignInAt: h.lastSignInAt ? when(h.lastSignInAt) : null,
    })),
    SPACES_CSV_COLUMNS,
  );
}
