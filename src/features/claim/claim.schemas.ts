import { z } from 'zod';
import {
  civilityField,
  countryField,
  emailAddressField,
  phoneField,
  postalCodeField,
  requiredText,
  withPostalCodeRule,
} from '../accounts/coordinates.schemas.ts';

/** Identifiant + Mot de passe printed on the appel de fonds (claim step 1 and "Ajouter un compte"). */
export const codeSchema = z.object({
  reference: z
    .string({ error: 'Saisissez votre identifiant.' })
    .trim()
    .min(1, 'Saisissez votre identifiant.')
    .max(50, 'Cet identifiant est trop long : vérifiez-le sur votre appel de fonds.'),
  code: z
    .string({ error: 'Saisissez le mot de passe imprimé sur votre appel de fonds.' })
    .trim()
    .min(1, 'Saisissez le mot de passe imprimé sur votre appel de fonds.')
    .max(100, 'Ce mot de passe est trop long : vérifiez-le sur votre appel de fonds.'),
});

/** Claim tickets are 32 random bytes in base64url. */
export const ticketSchema = z.string().regex(/^[A-Za-z0-9_-]{20,100}$/);

/**
 * Step 2: every field is required. The contact fields follow the same rules as the
 * profile and "Mes coordonnées" (a foreign postal code, a phone typed with dots or +33).
 */
export const profileSchema = withPostalCodeRule(
  z.object({
    ticket: ticketSchema,
    civility: civilityField(null, true),
    lastName: requiredText('Saisissez votre nom.', 100, 'Le nom doit contenir au plus 100 caractères.'),
    firstName: requiredText('Saisissez votre prénom.', 100, 'Le prénom doit contenir au plus 100 caractères.'),
    email: emailAddressField('Saisissez votre adresse email.'),
    password: z
      .string({ error: 'Choisissez un mot de passe.' })
      .min(1, 'Choisissez un mot de passe.')
      .max(4096, 'Le mot de passe doit contenir au plus 128 caractères.'),
    confirm: z
      .string({ error: 'Confirmez le mot de passe.' })
      .min(1, 'Confirmez le mot de passe.')
      .max(4096, 'Les deux mots de passe ne sont pas identiques.'),
    phone: phoneField(true),
    address: requiredText('Saisissez votre adresse.', 200, 'L’adresse doit contenir au plus 200 caractères.'),
    postalCode: postalCodeField(true),
    city: requiredText('Saisissez votre ville.', 100, 'La ville doit contenir au plus 100 caractères.'),
    country: countryField(),
  }),
);

export type ProfileInput = z.infer<typeof profileSchema>;

/** The step 2 fields, in form order, as the view and the error summary name them. */
export const PROFILE_LABELS: Record<string, string> = {
  civility: 'Civilité',
  lastName: 'Nom',
  firstName: 'Prénom',
  email: 'Email',
  password: 'Mot de passe',
  confirm: 'Confirmer le mot de passe',
  phone: 'Téléphone',
  address: 'Adresse',
  postalCode: 'Code postal',
  city: 'Ville',
  country: 'Pays',
};

export const CODE_LABELS: Record<string, string> = { reference: 'Identifiant', code: 'Mot de passe' };
