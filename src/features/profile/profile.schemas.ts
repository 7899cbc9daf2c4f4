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

/** The person's own details: every field filled, as when the space was created. */
export function profileSchema(currentCivility: string | null) {
  return withPostalCodeRule(
    z.object({
      civility: civilityField(currentCivility, true),
      lastName: requiredText('Saisissez votre nom.', 100, 'Le nom doit contenir au plus 100 caractères.'),
      firstName: requiredText('Saisissez votre prénom.', 100, 'Le prénom doit contenir au plus 100 caractères.'),
      phone: phoneField(true),
      address: requiredText('Saisissez votre adresse.', 200, 'L’adresse doit contenir au plus 200 caractères.'),
      postalCode: postalCodeField(true),
      city: requiredText('Saisissez votre ville.', 100, 'La ville doit contenir au plus 100 caractères.'),
      country: countryField(),
    }),
  );
}

export type ProfileInput = z.infer<ReturnType<typeof profileSchema>>;

const currentPassword = (missing: string) =>
  z.string({ error: missing }).min(1, missing).max(1024, 'Ce mot de passe est trop long.');

export const emailChangeSchema = z.object({
  newEmail: emailAddressField('Saisissez la nouvelle adresse email.'),
  emailPassword: currentPassword('Saisissez votre mot de passe actuel.'),
});

export const passwordChangeSchema = z.object({
  currentPassword: currentPassword('Saisissez votre mot de passe actuel.'),
  newPassword: z.string({ error: 'Choisissez un nouveau mot de passe.' }).min(1, 'Choisissez un nouveau mot de passe.'),
  confirmPassword: z
    .string({ error: 'Confirmez le nouveau mot de passe.' })
    .min(1, 'Confirmez le nouveau mot de passe.'),
});

export const PROFILE_LABELS: Record<string, string> = {
  civility: 'Civilité',
  lastName: 'Nom',
  firstName: 'Prénom',
  phone: 'Téléphone',
  address: 'Adresse',
  postalCode: 'Code postal',
  city: 'Ville',
  country: 'Pays',
  newEmail: 'Nouvelle adresse email',
  emailPassword: 'Mot de passe actuel',
  currentPassword: 'Mot de passe actuel',
  newPassword: 'Nouveau mot de passe',
  confirmPassword: 'Confirmer le nouveau mot de passe',
};
