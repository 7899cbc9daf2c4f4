import { z } from 'zod';

export const closeSpaceSchema = z.object({
  password: z
    .string({ error: 'Saisissez votre mot de passe actuel.' })
    .min(1, 'Saisissez votre mot de passe actuel.')
    .max(1024, 'Ce mot de passe est trop long.'),
});

export const CLOSE_LABELS: Record<string, string> = { password: 'Mot de passe actuel' };
