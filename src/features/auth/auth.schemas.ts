import { z } from 'zod';

export const emailField = z
  .string({ error: 'Saisissez votre adresse email.' })
  .trim()
  .min(1, 'Saisissez votre adresse email.')
  .max(254, 'Cette adresse email est trop longue.')
  .email('Saisissez une adresse email valide, par exemple nom@exemple.fr.');

export const loginSchema = z.object({
  email: emailField,
  password: z.string({ error: 'Saisissez votre mot de passe.' }).min(1, 'Saisissez votre mot de passe.').max(1024),
});

export const forgotSchema = z.object({ email: emailField });

export const resetSchema = z.object({
  token: z.string().min(1).max(200),
  password: z.string({ error: 'Choisissez un mot de passe.' }).min(1, 'Choisissez un mot de passe.'),
  confirm: z.string({ error: 'Confirmez le mot de passe.' }).min(1, 'Confirmez le mot de passe.'),
});
