import * as common from '@zxcvbn-ts/language-common';
import { strengthScore } from './password-strength.ts';
import { normalizePassword } from './passwords.ts';

export const PASSWORD_MAX_LENGTH = 128;

/** Shown beside every password field. */
export const PASSWORD_RULE_TEXT =
  '8 caractères minimum dont 1 majuscule et 1 chiffre, ou 15 caractères minimum de votre choix. ' +
  'Évitez les mots de passe courants et ceux qui contiennent votre nom, votre adresse email ou votre référence.';

/**
 * zxcvbn scores only this many first characters. Its cost grows with the length (1.5–2 s
 * of CPU for 128 characters of a word with substitutions, 'P4$$w0rd' repeated; with the
 * worker's settings, under 0.2 s for 64), and past 64 characters more length tells it
 * nothing it can use: a prefix that is easy to guess is almost always a repetition, which
 * the rest does not redeem. The cheap checks still read the whole password.
 */
export const SCORED_LENGTH = 64;

const TOO_LONG = `Le mot de passe doit contenir au plus ${PASSWORD_MAX_LENGTH} caractères.`;

const commonPasswords = new Set<string>(common.dictionary['passwords-common'] as string[]);

function fold(value: string): string {
  return value
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '');
}

export interface PasswordContext {
  /** Names, email, references, the agency's name: none may be built into the password. */
  personal: (string | null | undefined)[];
}

/**
 * Returns the French reasons a password is refused, or [] when it is accepted.
 * Rule: (≥ 8 with an uppercase letter and a digit) or ≥ 15 of anything; ≤ 128, never
 * truncated; never common, never built from the person's own details.
 */
export async function checkPassword(typed: string, ctx: PasswordContext): Promise<string[]> {
  // Nothing of that size can normalise down to the limit: refused before any work on it.
  if (typed.length > 8 * PASSWORD_MAX_LENGTH) return [TOO_LONG];
  // The form that will be hashed: lengths and rules apply to it.
  const password = normalizePassword(typed);
  // Characters as a person counts them (code points): an emoji is one, not two UTF-16 units.
  const chars = [...password];
  const length = chars.length;
  if (length > PASSWORD_MAX_LENGTH) {
    return [TOO_LONG];
  }
  const long = length >= 15;
  const agencyRule = length >= 8 && /\p{Lu}/u.test(password) && /\p{Nd}/u.test(password);
  if (!long && !agencyRule) {
    return [
      'Le mot de passe doit contenir au moins 8 caractères dont 1 majuscule et 1 chiffre, ou au moins 15 caractères.',
    ];
  }
  const folded = fold(password);
  const base = password.toLowerCase().replace(/[\d\W_]+$/u, '');
  const personal = ctx.personal
    .flatMap((p) => (p ? [p, ...p.split(/[@\s.\-_']+/)] : []))
    .map(fold)
    .filter((p) => p.length >= 4);
  if (personal.some((p) => folded.includes(p))) {
    return [
      'Le mot de passe ne doit pas reprendre votre nom, votre prénom, votre adresse email, votre référence ou le nom de l’agence.',
    ];
  }
  if (commonPasswords.has(password.toLowerCase()) || commonPasswords.has(base) || commonPasswords.has(folded)) {
    return ['Ce mot de passe fait partie des mots de passe les plus courants : choisissez-en un autre.'];
  }
  if ((await strengthScore(chars.slice(0, SCORED_LENGTH).join(''), personal)) <= 1) {
    return [
      'Ce mot de passe est trop facile à deviner : allongez-le ou mélangez davantage mots, chiffres et symboles.',
    ];
  }
  return [];
}
