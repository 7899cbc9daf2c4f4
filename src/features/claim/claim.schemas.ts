import { z } from 'zod';
import { CIVILITIES } from '../../core/views/components.tsx';
import { emailField } from '../auth/auth.schemas.ts';

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

const civilityValues = CIVILITIES.map((c) => c.value) as [string, ...string[]];

const text = (empty: string, max: number, tooLong: string) =>
  z.string({ error: empty }).trim().min(1, empty).max(max, tooLong);

/** Step 2: every field is required. */
export const profileSchema = z.object({
  ticket: ticketSchema,
  civility: z.enum(civilityValues, { error: 'Choisissez votre civilité.' }),
  lastName: text('Saisissez votre nom.', 100, 'Le nom doit contenir au plus 100 caractères.'),
  firstName: text('Saisissez votre prénom.', 100, 'Le prénom doit contenir au plus 100 caractères.'),
  email: emailField,
  password: z
    .string({ error: 'Choisissez un mot de passe.' })
    .min(1, 'Choisissez un mot de passe.')
    .max(4096, 'Le mot de passe doit contenir au plus 128 caractères.'),
  confirm: z
    .string({ error: 'Confirmez le mot de passe.' })
    .min(1, 'Confirmez le mot de passe.')
    .max(4096, 'Les deux mots de passe ne sont pas identiques.'),
  phone: text(
    'Saisissez votre numéro de téléphone.',
    30,
    'Le numéro de téléphone doit contenir au plus 30 caractères.',
  ).regex(/^\+?[\d\s.\-()]{6,}$/, 'Saisissez un numéro de téléphone valide, par exemple 06 12 34 56 78.'),
  address: text('Saisissez votre adresse.', 200, 'L’adresse doit contenir au plus 200 caractères.'),
  postalCode: z
    .string({ error: 'Saisissez votre code postal.' })
    .trim()
    .min(1, 'Saisissez votre code postal.')
    .max(20, 'Le code postal doit contenir 5 chiffres, par exemple 38000.')
    .transform((v) => v.replace(/\s+/g, ''))
    .pipe(z.string().regex(/^\d{5}$/, 'Le code postal doit contenir 5 chiffres, par exemple 38000.')),
  city: text('Saisissez votre ville.', 100, 'La ville doit contenir au plus 100 caractères.'),
});

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
};

export const CODE_LABELS: Record<string, string> = { reference: 'Identifiant', code: 'Mot de passe' };
