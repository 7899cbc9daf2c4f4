import { readFileSync } from 'node:fs';
import { getAgency } from '../../core/agency/agency.repository.ts';
import type { Db } from '../../db/db.ts';
import type { AgencyInput, UpdateAgencyResult } from '../agency/agency.service.ts';
import {
  exportCodes,
  importEcritures,
  importReferentiel,
  type EcrituresSummary,
  type ImportConfig,
  type ReferentielSummary,
} from './imports.service.ts';
import { REFERENTIEL_COLUMNS } from './referentiel.ts';

/**
 * Demonstration data, generated here so `palier demo` needs no file: two buildings in
 * Grenoble, their gestionnaires, co-owners (some on the council), a tenant and a
 * landlord, two years of ledger. Everything is fictional; dates are fixed so that
 * loading it again changes nothing.
 */

interface DemoLot {
  number: string;
  type: string;
  description: string;
  shares: number | '';
}

interface DemoAccount {
  kind: 'copropriétaire' | 'locataire' | 'propriétaire';
  reference: string;
  civility: string;
  lastName: string;
  firstName: string;
  email: string;
  phone: string;
  address: string;
  building: 'BASTILLE' | 'VERCORS';
  lots: DemoLot[];
  council: '' | 'membre' | 'président';
}

const BUILDINGS = {
  BASTILLE: {
    name: 'Résidence Bastille',
    address: '5 quai Stéphane-Jay',
    // The syndicat's own account: a copropriétaire's transfer goes there, not to the agency.
    bank: ['FR3330002005500000157841Z25', 'CRLYFRPP'],
    manager: ['Claire Martin', 'claire.martin@cabinet-demo.example', '04 76 00 00 01'],
  },
  VERCORS: {
    name: 'Le Vercors',
    address: '18 avenue Alsace-Lorraine',
    bank: ['FR1420041010050500013M02606', 'PSSTFRPPGRE'],
    manager: ['Julien Roux', 'julien.roux@cabinet-demo.example', '04 76 00 00 02'],
  },
} as const;

const lot = (number: string, type: string, description: string, shares: number | ''): DemoLot => ({
  number,
  type,
  description,
  shares,
});

/** The account to try first: a co-owner on the council, with a debtor balance of 1 378,20 €. */
export const DEMO_REFERENCE = '10001';

const ACCOUNTS: DemoAccount[] = [
  {
    kind: 'copropriétaire',
    reference: '10001',
    civility: 'M.',
    lastName: 'Dupont',
    firstName: 'Jean',
    email: 'jean.dupont@example.com',
    phone: '06 12 34 56 78',
    address: '5 quai Stéphane-Jay',
    building: 'BASTILLE',
    lots: [lot('0006', 'Appartement', '4 pièces', 123), lot('0031', 'Cave', '', 5), lot('0052', 'Parking', '', 8)],
    council: 'président',
  },
  {
    kind: 'copropriétaire',
    reference: '10002',
    civility: 'Mme',
    lastName: 'Bernard',
    firstName: 'Sophie',
    email: 'sophie.bernard@example.com',
    phone: '06 23 45 67 89',
    address: '5 quai Stéphane-Jay',
    building: 'BASTILLE',
    lots: [lot('0007', 'Appartement', '3 pièces', 98)],
    council: 'membre',
  },
  {
    kind: 'copropriétaire',
    reference: '10003',
    civility: 'M.',
    lastName: 'Benali',
    firstName: 'Karim',
    email: 'karim.benali@example.com',
    phone: '07 12 34 56 78',
    address: '5 quai Stéphane-Jay',
    building: 'BASTILLE',
    lots: [lot('0008', 'Appartement', '2 pièces', 76), lot('0032', 'Cave', '', 4)],
    council: 'membre',
  },
  {
    kind: 'copropriétaire',
    reference: '10004',
    civility: 'Mme',
    lastName: 'Fontaine',
    firstName: 'Élise',
    email: 'elise.fontaine@example.com',
    phone: '',
    address: '41 cours Berriat',
    building: 'BASTILLE',
    lots: [lot('0009', 'Appartement', 'Studio', 41)],
    council: '',
  },
  {
    kind: 'copropriétaire',
    reference: '20001',
    civility: 'Mme',
    lastName: 'Lefèvre',
    firstName: 'Éloïse',
    email: 'eloise.lefevre@example.com',
    phone: '06 98 76 54 32',
    address: '18 avenue Alsace-Lorraine',
    building: 'VERCORS',
    lots: [lot('0101', 'Appartement', '5 pièces', 210), lot('0121', 'Cave', '', 4)],
    council: 'président',
  },
  {
    kind: 'copropriétaire',
    reference: '20002',
    civility: '',
    lastName: 'SCI Les Alpes',
    firstName: '',
    email: 'contact@sci-les-alpes.example.com',
    phone: '04 76 11 22 33',
    address: '3 rue Félix-Poulat',
    building: 'VERCORS',
    lots: [lot('0102', 'Local commercial', 'Boutique', 150)],
    council: '',
  },
  {
    kind: 'copropriétaire',
    reference: '20003',
    civility: 'Mme',
    lastName: 'Morel',
    firstName: 'Anne',
    email: 'anne.morel@example.com',
    phone: '06 45 67 89 01',
    address: '2 rue Lesdiguières',
    building: 'VERCORS',
    lots: [lot('0103', 'Appartement', '2 pièces', 88)],
    council: 'membre',
  },
  {
    kind: 'locataire',
    reference: '30001',
    civility: 'M.',
    lastName: 'Petit',
    firstName: 'Lucas',
    email: 'lucas.petit@example.com',
    phone: '07 00 11 22 33',
    address: '18 avenue Alsace-Lorraine',
    building: 'VERCORS',
    lots: [lot('0103', 'Appartement', '2 pièces', 88)],
    council: '',
  },
  {
    kind: 'propriétaire',
    reference: '40001',
    civility: 'Mme',
    lastName: 'Morel',
    firstName: 'Anne',
    email: 'anne.morel@example.com',
    phone: '06 45 67 89 01',
    address: '2 rue Lesdiguières',
    building: 'VERCORS',
    lots: [lot('0103', 'Appartement', '2 pièces', 88)],
    council: '',
  },
];

const cell = (v: string | number) => {
  const s = String(v);
  return /[;"\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};
const line = (values: (string | number)[]) => values.map(cell).join(';');

export function demoReferentielCsv(): string {
  // Palier creates the access codes: the demo file has no code_acces column. Its ledger comes
  // from the écritures file, so it needs no compte_comptable either.
  const rows = [
    line(REFERENTIEL_COLUMNS.filter((c) => c !== 'code_acces' && c !== 'compte_comptable' && c !== 'pays')),
  ];
  for (const a of ACCOUNTS) {
    const b = BUILDINGS[a.building];
    for (const l of a.lots) {
      rows.push(
        line([
          a.kind,
          a.reference,
          a.civility,
          a.lastName,
          a.firstName,
          a.email,
          a.phone,
          a.address,
          '38000',
          'Grenoble',
          a.building,
          b.name,
          b.address,
          '38000',
          'Grenoble',
          ...b.bank,
          l.number,
          l.type,
          l.description,
          l.shares,
          a.council,
          ...b.manager,
        ]),
      );
    }
  }
  return rows.join('\n') + '\n';
}

const QUARTERS = [
  [2024, 1],
  [2024, 2],
  [2024, 3],
  [2024, 4],
  [2025, 1],
  [2025, 2],
  [2025, 3],
  [2025, 4],
] as const;
const MONTHS = [
  'janvier',
  'février',
  'mars',
  'avril',
  'mai',
  'juin',
  'juillet',
  'août',
  'septembre',
  'octobre',
  'novembre',
  'décembre',
];

const euros = (cents: number) => {
  const s = String(cents);
  return `${s.slice(0, -2) || '0'},${s.slice(-2).padStart(2, '0')}`;
};
const date = (y: number, m: number, d: number) => `${String(d).padStart(2, '0')}/${String(m).padStart(2, '0')}/${y}`;

/**
 * Co-owners receive a quarterly appel de fonds and pay it; `unpaid` last quarters stay
 * due. 10001 ends at -1 378,20 € (two quarters of 689,10 €).
 */
const CO_OWNER_LEDGERS: Record<string, { quarterly: number; paid: number; unpaid: number; works?: number }> = {
  '10001': { quarterly: 68910, paid: 68910, unpaid: 2, works: 124500 },
  '10002': { quarterly: 54530, paid: 54530, unpaid: 0, works: 99300 },
  '10003': { quarterly: 42215, paid: 45000, unpaid: 0, works: 77000 },
  '10004': { quarterly: 22805, paid: 22805, unpaid: 1, works: 41500 },
  '20001': { quarterly: 116040, paid: 116040, unpaid: 0 },
  '20002': { quarterly: 82890, paid: 82890, unpaid: 1 },
  '20003': { quarterly: 48620, paid: 48620, unpaid: 0 },
};

export function demoEcrituresCsv(): string {
  const rows = [line(['reference', 'date', 'libelle', 'debit', 'credit', 'piece'])];
  const add = (ref: string, d: string, label: string, debit: number, credit: number, piece = '') =>
    rows.push(line([ref, d, label, debit ? euros(debit) : '', credit ? euros(credit) : '', piece]));

  for (const [ref, l] of Object.entries(CO_OWNER_LEDGERS)) {
    QUARTERS.forEach(([y, q], i) => {
      const month = (q - 1) * 3 + 1;
      add(
        ref,
        date(y, month, 1),
        `Appel de fonds ${q}${q === 1 ? 'er' : 'e'} trimestre ${y} – budget prévisionnel`,
        l.quarterly,
        0,
        `AF${y}T${q}-${ref}`,
      );
      if (i < QUARTERS.length - l.unpaid) {
        const label = i % 2 === 0 ? 'Règlement par chèque' : 'Virement reçu';
        add(ref, date(y, month, 12 + (i % 3)), label, 0, l.paid, '');
      }
      if (l.works && y === 2024 && q === 2) {
        add(ref, date(2024, 6, 15), 'Appel de fonds travaux – ravalement de façade', l.works, 0, `TRX2024-${ref}`);
        add(ref, date(2024, 7, 10), 'Règlement travaux – virement reçu', 0, l.works, '');
      }
    });
  }

  // The tenant: rent and charge provisions each month, paid by transfer; a refund after the yearly adjustment.
  for (const y of [2024, 2025]) {
    MONTHS.forEach((name, m) => {
      add(
        '30001',
        date(y, m + 1, 1),
        `Loyer et provisions sur charges – ${name} ${y}`,
        78000,
        0,
        `QL${y}${String(m + 1).padStart(2, '0')}`,
      );
      add('30001', date(y, m + 1, 5), 'Virement reçu', 0, 78000);
      // The landlord: rent collected, management fees, transfer of the rest.
      add('40001', date(y, m + 1, 5), `Loyer encaissé – M. Petit – ${name} ${y}`, 0, 78000);
      add(
        '40001',
        date(y, m + 1, 20),
        'Honoraires de gestion (8 %)',
        6240,
        0,
        `HG${y}${String(m + 1).padStart(2, '0')}`,
      );
      add('40001', date(y, m + 1, 25), 'Virement au propriétaire', 71760, 0);
    });
  }
  add('30001', date(2025, 4, 30), 'Régularisation des charges 2024', 0, 4250, 'REG2024');
  return rows.join('\n') + '\n';
}

export interface DemoResult {
  referentiel: ReferentielSummary;
  ecritures: EcrituresSummary;
  agencySet: boolean;
  /** A reference and its unused access code to try "Créez votre espace"; null when all demo codes were used. */
  tryAccount: { reference: string; code: string; name: string } | null;
}

/** The demo agency's colour: a deep blue, 7:1 on white. */
export const DEMO_COLOR = '#1F5A8C';

/** The demo agency's emblem (its name is written beside it on every page). */
const DEMO_LOGO = new URL('./fixtures/demo-logo.svg', import.meta.url);

/**
 * Loads the demonstration data through the same imports as the agency's files, and gives an
 * unconfigured agency a demo identity (name, logo, colour) through `setIdentity`, the service
 * behind `palier agence`, so it is checked like the agency's own. Idempotent.
 */
export async function loadDemo(
  db: Db,
  config: ImportConfig,
  setIdentity: (input: AgencyInput) => Promise<UpdateAgencyResult>,
): Promise<DemoResult> {
  const referentiel = await importReferentiel(db, config, Buffer.from(demoReferentielCsv()));
  const ecritures = await importEcritures(db, Buffer.from(demoEcrituresCsv()));
  const agency = await getAgency(db);
  if (!agency.configured) {
    const result = await setIdentity({
      name: 'Cabinet Démo',
      tagline: 'Syndic de copropriété depuis 1904',
      address: '12 place Grenette, 38000 Grenoble',
      phone: '04 76 00 00 00',
      email: 'contact@cabinet-demo.example',
      website: 'https://cabinet-demo.example',
      // The standard example IBAN of French banking documentation: not a real account.
      iban: 'FR7630006000011234567890189',
      bic: 'AGRIFRPPXXX',
      color: DEMO_COLOR,
      logo: readFileSync(DEMO_LOGO),
    });
    // Our own fixed values: a refusal is a bug here, not something to tell the user about.
    if (!result.ok) throw new Error(`demo identity refused: ${JSON.stringify(result.errors)}`);
  }
  const demoRefs = new Set(ACCOUNTS.map((a) => a.reference));
  const codes = (await exportCodes(db, config)).filter((c) => demoRefs.has(c.reference));
  const chosen = codes.find((c) => c.reference === DEMO_REFERENCE) ?? codes[0];
  const holder = chosen && ACCOUNTS.find((a) => a.reference === chosen.reference)!;
  return {
    referentiel,
    ecritures,
    agencySet: !agency.configured,
    tryAccount:
      chosen && holder
        ? { reference: chosen.reference, code: chosen.code, name: `${holder.firstName} ${holder.lastName}`.trim() }
        : null,
  };
}
