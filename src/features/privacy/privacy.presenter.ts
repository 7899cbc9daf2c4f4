import { frenchCsv } from '../../core/csv.ts';
import { COLUMN_LABELS } from '../accounts/accounts.presenter.ts';
import { ACCOUNT_CONTACT_COLUMNS } from '../accounts/accounts.repository.ts';

/**
 * Everything Palier holds about one person, as the person downloads it (RGPD articles 15 and
 * 20): French keys, ISO dates, nothing secret (no password hash, session or link token).
 */
export interface PersonalData {
  export: { application: string; agence: string; exporte_le: string };
  profil: {
    civilite: string | null;
    nom: string;
    prenom: string;
    email: string;
    email_confirme_le: string | null;
    telephone: string | null;
    adresse: string | null;
    code_postal: string | null;
    ville: string | null;
    cree_le: string;
    modifie_le: string;
  };
  comptes: {
    reference: string;
    type: string;
    immeuble: { code: string; nom: string } | null;
    lots: { numero: string; type: string | null; description: string | null }[];
    lie_le: string;
  }[];
  changements_de_coordonnees: {
    compte: string;
    date: string;
    avant: Record<string, string | null>;
    apres: Record<string, string | null>;
  }[];
  messages: { compte: string; date: string; objet: string; texte: string }[];
  sessions: {
    ouverte_le: string;
    derniere_activite: string;
    expire_le: string;
    adresse_ip: string | null;
    navigateur: string | null;
  }[];
  evenements_de_securite: {
    date: string;
    action: string;
    libelle: string;
    resultat: string;
    adresse_ip: string | null;
  }[];
}

export type ExportFormat = 'json' | 'csv';

export interface PersonalDataFile {
  fileName: string;
  contentType: string;
  body: string;
}

/** What each security event means, for a person reading their own file. */
const ACTION_LABELS: Record<string, string> = {
  login: 'Connexion',
  'login.locked': 'Connexion bloquée après trop d’essais',
  logout: 'Déconnexion',
  claim: 'Création de l’espace client',
  'claim.code': 'Code d’accès saisi à la création de l’espace',
  attach: 'Ajout d’un compte à l’espace',
  'attach.code': 'Code d’accès saisi pour ajouter un compte',
  'reset.request': 'Demande de nouveau mot de passe',
  'reset.mail': 'Envoi du lien de nouveau mot de passe',
  'reset.complete': 'Nouveau mot de passe choisi depuis le lien',
  'password.change': 'Changement de mot de passe',
  'profile.update': 'Modification des informations personnelles',
  'email.change_request': 'Demande de changement d’adresse email',
  'email.change_cancel': 'Annulation d’un changement d’adresse email',
  'email.change_email': 'Changement d’adresse email confirmé',
  'email.verify_email': 'Adresse email confirmée',
  'account.read': 'Consultation d’un compte',
  'account.contact_change': 'Correction des coordonnées d’un compte',
  coordinates: 'Correction des coordonnées d’un compte',
  'message.send': 'Message au gestionnaire',
  'personal_data.export': 'Téléchargement de mes données',
  'space.close': 'Fermeture de l’espace client',
};

const OUTCOME_LABELS: Record<string, string> = { success: 'réussi', failure: 'échec', denied: 'refusé' };

export function actionLabel(action: string): string {
  return ACTION_LABELS[action] ?? action;
}

export function outcomeLabel(outcome: string): string {
  return OUTCOME_LABELS[outcome] ?? outcome;
}

/** "mes-donnees-palier-2026-12-03.json": the date of the day in Paris, so several exports sort. */
export function personalDataFileName(today: string, format: ExportFormat): string {
  return `mes-donnees-palier-${today}.${format}`;
}

export function personalDataJson(data: PersonalData): string {
  return `${JSON.stringify(data, null, 2)}\n`;
}

const CSV_COLUMNS = {
  category: { header: 'categorie', type: 'text' },
  item: { header: 'element', type: 'text' },
  field: { header: 'champ', type: 'text' },
  value: { header: 'valeur', type: 'text' },
} as const;

type CsvRow = { category: string; item: string; field: string; value: string | null };

function contactFieldLabel(column: string): string {
  return (ACCOUNT_CONTACT_COLUMNS as readonly string[]).includes(column)
    ? COLUMN_LABELS[column as (typeof ACCOUNT_CONTACT_COLUMNS)[number]]
    : column;
}

/**
 * The same content as the JSON, one value a line: `categorie;element;champ;valeur`, where
 * `element` numbers the entries of a category (1, 2…), so a spreadsheet can filter and
 * regroup them. Written with frenchCsv: every cell is text, formulas neutralised.
 */
export function personalDataCsv(data: PersonalData): string {
  const rows: CsvRow[] = [];
  const push = (category: string, item: number, fields: [string, string | null][]) => {
    for (const [field, value] of fields) rows.push({ category, item: String(item), field, value });
  };
  const p = data.profil;
  push('Export', 1, [
    ['Application', data.export.application],
    ['Agence', data.export.agence],
    ['Exporté le', data.export.exporte_le],
  ]);
  push('Profil', 1, [
    ['Civilité', p.civilite],
    ['Nom', p.nom],
    ['Prénom', p.prenom],
    ['Email', p.email],
    ['Email confirmé le', p.email_confirme_le],
    ['Téléphone', p.telephone],
    ['Adresse', p.adresse],
    ['Code postal', p.code_postal],
    ['Ville', p.ville],
    ['Espace créé le', p.cree_le],
    ['Modifié le', p.modifie_le],
  ]);
  data.comptes.forEach((c, i) =>
    push('Comptes', i + 1, [
      ['Référence', c.reference],
      ['Type', c.type],
      ['Immeuble', c.immeuble ? `${c.immeuble.code} ${c.immeuble.nom}` : null],
      ...c.lots.map((l): [string, string] => [
        'Lot',
        [l.numero, l.type, l.description ? `(${l.description})` : null].filter(Boolean).join(' '),
      ]),
      ['Lié à l’espace le', c.lie_le],
    ]),
  );
  data.changements_de_coordonnees.forEach((c, i) =>
    push('Changements de coordonnées', i + 1, [
      ['Compte', c.compte],
      ['Date', c.date],
      ...Object.keys(c.apres).flatMap((k): [string, string | null][] => [
        [`${contactFieldLabel(k)} (avant)`, c.avant[k] ?? null],
        [`${contactFieldLabel(k)} (après)`, c.apres[k] ?? null],
      ]),
    ]),
  );
  data.messages.forEach((m, i) =>
    push('Messages au gestionnaire', i + 1, [
      ['Compte', m.compte],
      ['Date', m.date],
      ['Objet', m.objet],
      ['Texte', m.texte],
    ]),
  );
  data.sessions.forEach((s, i) =>
    push('Sessions', i + 1, [
      ['Ouverte le', s.ouverte_le],
      ['Dernière activité', s.derniere_activite],
      ['Expire le', s.expire_le],
      ['Adresse IP', s.adresse_ip],
      ['Navigateur', s.navigateur],
    ]),
  );
  data.evenements_de_securite.forEach((e, i) =>
    push('Événements de sécurité', i + 1, [
      ['Date', e.date],
      ['Action', e.libelle],
      ['Résultat', e.resultat],
      ['Adresse IP', e.adresse_ip],
    ]),
  );
  return frenchCsv(rows, CSV_COLUMNS);
}
