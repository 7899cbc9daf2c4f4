import { retryTime } from '../../core/security/attempts.ts';
import { accountTitle, personName } from '../accounts/accounts.presenter.ts';
import type { IssuedCode, Unlocked } from './codes.service.ts';

/** Plain text for the terminal: U+00A0 before « : » and inside guillemets, U+202F before « ; ». */
const q = (s: string) => `«\u00a0${s}\u00a0»`;

/** What the gestionnaire copies onto the letter: the code, once, and where to send it. */
export function describeIssuedCode(r: IssuedCode, baseUrl: string): string[] {
  const a = r.account;
  const building = r.building ? ` — ${r.building.name} (${r.building.code})` : '';
  const lines = [
    `Nouveau code d’accès pour ${accountTitle(a)}${building}.`,
    'L’ancien code ne fonctionne plus.',
    '',
    `  Identifiant\u00a0: ${a.reference}`,
    `  Mot de passe\u00a0: ${r.code}`,
    '',
    'Notez-le maintenant\u00a0: Palier n’en garde qu’une empreinte et ne pourra plus l’afficher.',
    `À saisir sur ${baseUrl}/ en cliquant sur ${q('Créez votre espace')} (ou ${q('Ajouter un compte')} une fois connecté).`,
    '',
  ];
  const name = personName(a);
  const town = [a.postal_code, a.city].filter((s) => s && s.trim()).join(' ');
  const address = [name, a.address, town].filter((s): s is string => !!s && s.trim() !== '');
  if (address.length > 0 && (a.address || town)) {
    lines.push('Adresse postale\u00a0:', ...address.map((l) => `  ${l}`));
  } else {
    lines.push(`Adresse postale\u00a0: aucune dans le référentiel${name ? ` (titulaire\u00a0: ${name})` : ''}.`);
  }
  if (r.holders > 0) {
    lines.push(
      '',
      `Ce compte est déjà rattaché à ${r.holders} espace${r.holders > 1 ? 's' : ''}\u00a0: le nouveau code permet à une personne de plus d’y accéder.`,
    );
  }
  if (r.lockedUntil) {
    lines.push(
      '',
      `La référence est bloquée jusqu’à ${retryTime(r.lockedUntil)} après trop d’essais\u00a0: npx palier codes debloquer ${a.reference}`,
    );
  }
  return lines;
}

export function describeUnlocked(r: Unlocked): string[] {
  const ref = q(r.account.reference);
  if (r.wasLockedUntil) {
    return [
      `Référence ${ref} débloquée\u00a0: ${r.cleared} essai${r.cleared > 1 ? 's' : ''} effacé${r.cleared > 1 ? 's' : ''}\u202f; le titulaire peut saisir son code dès maintenant.`,
    ];
  }
  const n = r.cleared;
  return [
    `La référence ${ref} n’était pas bloquée\u202f; ${n} essai${n > 1 ? 's' : ''} récent${n > 1 ? 's' : ''} effacé${n > 1 ? 's' : ''}.`,
  ];
}
