import { z } from 'zod';

const ISO = /^(\d{4})-(\d{2})-(\d{2})$/;
const FRENCH = /^(\d{2})\/(\d{2})\/(\d{4})$/;

/** A real calendar date in a sensible range (no 2023-02-30, no year 0). */
export function isCalendarDate(iso: string): boolean {
  const m = ISO.exec(iso);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (y < 1900 || y > 2999) return false;
  const date = new Date(Date.UTC(y, mo - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d;
}

/** Date inputs send AAAA-MM-JJ; browsers without a date picker let people type JJ/MM/AAAA. */
function normalizeDate(v: unknown): unknown {
  if (typeof v !== 'string') return v;
  const s = v.trim();
  if (s === '') return undefined;
  const fr = FRENCH.exec(s);
  return fr ? `${fr[3]}-${fr[2]}-${fr[1]}` : s;
}

function dateField(which: 'de début' | 'de fin') {
  const message = `La date ${which} n’est pas valide : saisissez-la au format JJ/MM/AAAA, par exemple 31/12/2024.`;
  return z.preprocess(
    normalizeDate,
    z.string({ error: message }).max(10, message).refine(isCalendarDate, message).optional(),
  );
}

/** `?du=&au=` of the statement: both optional, bounds included. */
export const periodSchema = z
  .object({ du: dateField('de début'), au: dateField('de fin') })
  .refine((p) => !p.du || !p.au || p.du <= p.au, {
    path: ['au'],
    message: 'La date de fin doit être postérieure ou égale à la date de début.',
  });

export type Period = z.infer<typeof periodSchema>;
