import { z } from 'zod';
import { requiredText } from '../accounts/coordinates.schemas.ts';

export const SUBJECT_MAX = 200;
export const BODY_MAX = 5000;

// Line breaks and tabs are welcome in a message; other control characters are not.
const hasNoControl = (s: string) => !/\p{Cc}/u.test(s.replace(/[\n\t]/g, ''));

export const messageSchema = z.object({
  subject: requiredText(
    'Saisissez l’objet de votre message.',
    SUBJECT_MAX,
    `L’objet doit contenir au plus ${SUBJECT_MAX} caractères.`,
  ),
  body: z
    .string({ error: 'Saisissez votre message.' })
    // Browsers send line breaks as CRLF: count them as one character, as the textarea does.
    .transform((s) => s.replace(/\r\n?/g, '\n').trim())
    .pipe(
      z
        .string()
        .min(1, 'Saisissez votre message.')
        .max(BODY_MAX, 'Votre message doit contenir au plus 5\u202f000 caractères.')
        .refine(hasNoControl, 'Votre message contient des caractères non autorisés.'),
    ),
});

export type MessageInput = z.infer<typeof messageSchema>;

export const MESSAGE_LABELS = { subject: 'Objet', body: 'Message' };
