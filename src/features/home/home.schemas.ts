import { z } from 'zod';

/** `?onglet=` selects a tab without JavaScript; anything else falls back to the default tab. */
export const homeQuerySchema = z.object({
  onglet: z.enum(['coproprietaire', 'locataire', 'proprietaire']).optional().catch(undefined),
});
