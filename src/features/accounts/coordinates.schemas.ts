import { z } from 'zod';
import { CIVILITIES } from '../../core/views/components.tsx';

/*
 * Field rules shared by "Mes coordonnées" (the account's details held by the agency) and
 * "Profil" (the person's own details). French messages, trimmed values, bounded lengths:
 * a 10 KB paste gets a clear message, never a 500.
 */

// Control characters (newlines, tabs, NUL…) have no place in a one-line field; they could
// also break mail headers or the agency's exports.
const ONE_LINE = /^[^\p{Cc}]*$/u;
const ONE_LINE_MESSAGE = 'Ce champ ne doit contenir qu’une seule ligne de texte.';

export const PHONE = /^\+?[0-9 .\-()]+$/;
/** A French postal code: 5 digits (Corsica's are 20xxx; 2A and 2B are département codes, not postal codes). */
export const FRENCH_POSTAL_CODE = /^[0-9]{5}$/;
/** Abroad: 3 to 10 letters, digits, spaces or dashes ("SW1A 1AA", "1000", "D02 X285", "00-950"). */
export const POSTAL_CODE = /^[0-9A-Za-z][0-9A-Za-z -]{1,8}[0-9A-Za-z]$/;

const FRANCE = 'France';

/** "France", "france", "FRANCE ", "" → '' (France, stored as null); any other country as typed. */
export function normalizeCountry(value: string): string {
  const folded = value.normalize('NFD').replace(/\p{M}/gu, '').trim().toLowerCase();
  return folded === '' || folded === 'france' ? '' : value.trim();
}

/** The country shown in the form and mails: the stored one, else France. */
export function countryLabel(stored: string | null | undefined): string {
  return stored && stored.trim() !== '' ? stored : FRANCE;
}

export function countryField() {
  return z
    .string({ error: 'Saisissez le pays.' })
    .trim()
    .max(60, 'Le pays doit contenir au plus 60 caractères.')
    .regex(ONE_LINE, ONE_LINE_MESSAGE)
    .regex(/^[^0-9]*$/, 'Saisissez le nom du pays, par exemple Belgique.')
    .default('')
    .transform(normalizeCountry);
}

export function requiredText(missing: string, max: number, tooLong: string) {
  return z.string({ error: missing }).trim().min(1, missing).max(max, tooLong).regex(ONE_LINE, ONE_LINE_MESSAGE);
}

export function optionalText(max: number, tooLong: string) {
  return z
    .string({ error: 'Ce champ est mal renseigné.' })
    .trim()
    .max(max, tooLong)
    .regex(ONE_LINE, ONE_LINE_MESSAGE)
    .default('');
}

export function phoneField(required: boolean) {
  const missing = 'Saisissez un numéro de téléphone.';
  const invalid =
    'Saisissez un numéro de téléphone valide, par exemple 06\u00a012\u00a034\u00a056\u00a078 ou +33\u00a06\u00a012\u00a034\u00a056\u00a078.';
  return z
    .string({ error: missing })
    .trim()
    .max(25, invalid)
    .refine((v) => !required || v.length > 0, missing)
    .refine((v) => v === '' || (PHONE.test(v) && (v.match(/\d/g) ?? []).length >= 6), invalid)
    .default('');
}

const FRENCH_POSTAL_CODE_MESSAGE =
  'Saisissez un code postal valide : 5 chiffres en France, par exemple 38000 ; pour une adresse à l’étranger, indiquez le pays.';
const FOREIGN_POSTAL_CODE_MESSAGE = 'Saisissez un code postal valide : 3 à 10 lettres, chiffres, espaces ou tirets.';

/**
 * Length and presence only: whether the code is valid depends on the country, checked by
 * withPostalCodeRule on the whole form.
 */
export function postalCodeField(required: boolean) {
  const missing = 'Saisissez le code postal.';
  return z
    .string({ error: missing })
    .trim()
    .max(10, 'Le code postal doit contenir au plus 10 caractères.')
    .refine((v) => !required || v.length > 0, missing)
    .default('');
}

/** The French message for a postal code in this country ('' is France), or null when it is valid. */
export function postalCodeProblem(postalCode: string, country: string): string | null {
  const code = postalCode.trim();
  if (code === '') return null;
  if (normalizeCountry(country) === '') return FRENCH_POSTAL_CODE.test(code) ? null : FRENCH_POSTAL_CODE_MESSAGE;
  return POSTAL_CODE.test(code) ? null : FOREIGN_POSTAL_CODE_MESSAGE;
}

/** Adds the postal code rule of the form's country (France when none) to a form with both fields. */
export function withPostalCodeRule<T extends z.ZodObject<{ postalCode: z.ZodType; country: z.ZodType }>>(schema: T): T {
  return schema.check((payload) => {
    const v = payload.value as { postalCode?: unknown; country?: unknown };
    if (typeof v.postalCode !== 'string') return;
    const problem = postalCodeProblem(v.postalCode, typeof v.country === 'string' ? v.country : '');
    if (problem) payload.issues.push({ code: 'custom', message: problem, path: ['postalCode'], input: v.postalCode });
  }) as T;
}

export function emailAddressField(missing: string) {
  return z
    .string({ error: missing })
    .trim()
    .min(1, missing)
    .max(254, 'Cette adresse email est trop longue.')
    .email('Saisissez une adresse email valide, par exemple nom@exemple.fr.');
}

/**
 * A civility from the list, or the one already stored (an import may carry "Mlle" or
 * "SCI"): resubmitting an unchanged form must not look like a correction.
 */
export function civilityField(current: string | null, required: boolean) {
  const allowed = new Set([...CIVILITIES.map((c) => c.value), ...(current ? [current] : [])]);
  return z
    .string({ error: 'Choisissez une civilité dans la liste.' })
    .trim()
    .refine((v) => !required || v.length > 0, 'Choisissez une civilité.')
    .refine((v) => v === '' || allowed.has(v), 'Choisissez une civilité dans la liste.')
    .default('');
}

/** Options of the civility list, keeping a stored value that is not in the standard list. */
export function civilityOptions(current: string | null | undefined) {
  const options = [...CIVILITIES];
  if (current && !options.some((o) => o.value === current)) options.push({ value: current, label: current });
  return options;
}

export function coordinatesSchema(currentCivility: string | null) {
  return withPostalCodeRule(
    z.object({
      civility: civilityField(currentCivility, false),
      lastName: requiredText('Saisissez le nom.', 100, 'Le nom doit contenir au plus 100 caractères.'),
      firstName: optionalText(100, 'Le prénom doit contenir au plus 100 caractères.'),
      email: emailAddressField('Saisissez l’adresse email à laquelle l’agence peut vous écrire.'),
      phone: phoneField(false),
      address: requiredText('Saisissez l’adresse.', 200, 'L’adresse doit contenir au plus 200 caractères.'),
      postalCode: postalCodeField(true),
      city: requiredText('Saisissez la ville.', 100, 'La ville doit contenir au plus 100 caractères.'),
      country: countryField(),
    }),
  );
}

export type CoordinatesInput = z.infer<ReturnType<typeof coordinatesSchema>>;

/** Labels of the form fields, for the error summary and the history. */
export const COORDINATES_LABELS: Record<keyof CoordinatesInput, string> = {
  civility: 'Civilité',
  lastName: 'Nom',
  firstName: 'Prénom',
  email: 'Email',
  phone: 'Téléphone',
  address: 'Adresse',
  postalCode: 'Code postal',
  city: 'Ville',
  country: 'Pays',
};
