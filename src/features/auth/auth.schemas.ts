import { z } from 'zod';
import { PASSWORD_MAX_LENGTH } from '../../core/security/password-policy.ts';

export const emailField = z
  .string({ error: 'Saisissez votre adresse email.' })
  .trim()
  .min(1, 'Saisissez votre adresse email.')
  .max(254, 'Cette adresse email est trop longue.')
  .email('Saisissez une adresse email valide, par exemple nom@exemple.fr.');

export const loginSchema = z.object({
  email: emailField,
  password: z
    .string({ error: 'Saisissez votre mot de passe.' })
    .min(1, 'Saisissez votre mot de passe.')
    // Bounded before argon2 sees it; no password of a space is longer than the policy allows.
    .max(
      1024,
      `Ce mot de passe est trop long : les mots de passe de l’espace client comptent au plus ${PASSWORD_MAX_LENGTH} caractères.`,
    ),
});

export const forgotSchema = z.object({ email: emailField });

/**
 * The token of a link (reset, email confirmation): 32 random bytes in base64url. Anything
 * else is answered as a link that is no longer valid, never with a validation message.
 */
export const linkTokenSchema = z.string().regex(/^[A-Za-z0-9_-]{20,100}$/);

export const resetSchema = z.object({
  password: z.string({ error: 'Choisissez un mot de passe.' }).min(1, 'Choisissez un mot de passe.'),
  confirm: z.string({ error: 'Confirmez le mot de passe.' }).min(1, 'Confirmez le mot de passe.'),
});

/**
 * Where to go back after signing in: a path of this site only (never `//host` or
 * `/\host`, which browsers read as another site), else nothing.
 */
export function returnPath(value: unknown): string | null {
  if (typeof value !== 'string' || value.length > 500) return null;
  if (!/^\/(?![/\\])[\x21-\x7e]*$/.test(value)) return null;
  return value;
}
