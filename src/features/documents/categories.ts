import type { DocumentScope } from '../../db/schema.ts';

/*
 * The categories of documents, as stable codes (kept in the database, typed on the command
 * line) with their French labels, following the lists of décret n° 2019-502 du 23 mai 2019
 * (espace en ligne sécurisé, article 18 de la loi du 10 juillet 1965).
 *
 * `required` marks what the décret asks the syndic to make available in every copropriété:
 * `npx palier documents conformite` reports those with no current document. Categories the
 * décret lists only when they exist (actes modificatifs « s’ils ont été publiés », contrats
 * en cours, diagnostics, décisions de justice) are `required: false`: their absence may be
 * legitimate. The règlement intérieur is not in the décret at all.
 */

export interface Category {
  code: string;
  space: DocumentScope;
  /** As shown to clients, as a heading of its group. */
  label: string;
  /** As the conformity report names a missing one: « fiche synthétique manquante ». */
  missing: string;
  required: boolean;
}

const c = (code: string, space: DocumentScope, label: string, missing: string, required: boolean): Category => ({
  code,
  space,
  label,
  missing,
  required,
});

export const CATEGORIES: readonly Category[] = [
  // Documents of the building, for every copropriétaire (décret 2019-502, art. 1er, 1°).
  c('reglement_copropriete', 'building', 'Règlement de copropriété', 'règlement de copropriété manquant', true),
  c(
    'etat_descriptif_division',
    'building',
    'État descriptif de division',
    'état descriptif de division manquant',
    true,
  ),
  c('actes_modificatifs', 'building', 'Actes modificatifs', 'actes modificatifs manquants', false),
  c('fiche_synthetique', 'building', 'Fiche synthétique de la copropriété', 'fiche synthétique manquante', true),
  c('carnet_entretien', 'building', 'Carnet d’entretien', 'carnet d’entretien manquant', true),
  c(
    'diagnostics_techniques',
    'building',
    'Diagnostics techniques des parties communes',
    'diagnostics techniques manquants',
    false,
  ),
  c('assurance_immeuble', 'building', 'Assurance de l’immeuble', 'contrat d’assurance de l’immeuble manquant', true),
  c('contrats_marches', 'building', 'Contrats et marchés du syndicat', 'contrats et marchés manquants', false),
  c(
    'contrats_entretien',
    'building',
    'Contrats d’entretien et de maintenance',
    'contrats d’entretien manquants',
    false,
  ),
  c(
    'proces_verbal_ag',
    'building',
    'Procès-verbaux d’assemblée générale et devis de travaux approuvés',
    'PV d’AG manquant',
    true,
  ),
  c('contrat_syndic', 'building', 'Contrat de syndic', 'contrat de syndic manquant', true),
  c('reglement_interieur', 'building', 'Règlement intérieur', 'règlement intérieur manquant', false),
  // One account's documents (art. 1er, 2°).
  c('compte_individuel', 'account', 'Compte individuel', 'compte individuel manquant', true),
  c('charges_payees', 'account', 'Charges payées des deux derniers exercices', 'charges payées manquantes', true),
  c('fonds_travaux', 'account', 'Part du fonds de travaux', 'part du fonds de travaux manquante', true),
  c('appels_de_fonds', 'account', 'Appels de fonds', 'appels de fonds manquants', true),
  c('courriers', 'account', 'Courriers', 'courriers manquants', false),
  // The conseil syndical's (art. 1er, 3°).
  c('comptes_syndicat', 'council', 'Comptes du syndicat', 'comptes du syndicat manquants', true),
  c(
    'releves_compte_bancaire',
    'council',
    'Relevés du compte bancaire séparé',
    'relevés du compte bancaire manquants',
    true,
  ),
  c('liste_coproprietaires', 'council', 'Liste des copropriétaires', 'liste des copropriétaires manquante', true),
  c(
    'carte_professionnelle_syndic',
    'council',
    'Carte professionnelle du syndic',
    'carte professionnelle du syndic manquante',
    true,
  ),
  c(
    'attestations_assurance_syndic',
    'council',
    'Attestations d’assurance et de garantie financière du syndic',
    'attestations d’assurance du syndic manquantes',
    true,
  ),
  c('decisions_justice', 'council', 'Décisions de justice', 'décisions de justice manquantes', false),
];

export const SPACE_LABELS: Record<DocumentScope, string> = {
  account: 'Documents privés du compte',
  building: 'Documents de l’immeuble',
  council: 'Documents du conseil syndical',
};

const byCode = new Map(CATEGORIES.map((cat) => [cat.code, cat]));

/** The category of this code, looked up as an own key only (« constructor » is no category). */
export function categoryOf(code: string): Category | undefined {
  return byCode.get(code);
}

export function categoriesOf(space: DocumentScope): Category[] {
  return CATEGORIES.filter((cat) => cat.space === space);
}

/** Display order of a category within its space: the décret's order. */
export function categoryRank(code: string): number {
  const i = CATEGORIES.findIndex((cat) => cat.code === code);
  return i === -1 ? CATEGORIES.length : i;
}
