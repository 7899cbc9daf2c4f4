const money = new Intl.NumberFormat('fr-FR', { style: 'currency', currency: 'EUR' });

/** Thousands separator and space before the currency sign that Intl writes for fr-FR. */
const GROUP = '\u202f';
const BEFORE_CURRENCY = '\u00a0';

/**
 * Beyond ten trillion euros the amount is left to Intl. Below it the spacing of doubles around
 * cents / 100 stays under a cent, so Intl (which formats the shortest decimal that reads back as
 * the same double) sees exactly our cents, and the two can only agree.
 */
const FAST_LIMIT_CENTS = 1e15;

/**
 * 137820 → "1 378,20 €" (with the non-breaking spaces French typography requires): exactly what
 * Intl.NumberFormat('fr-FR', { style: 'currency', currency: 'EUR' }) writes, which format.test.ts
 * checks over many values. Written by hand because a long statement formats thousands of amounts
 * and Intl costs about half a microsecond each; anything unusual (fractions of a cent, NaN, huge
 * numbers) still goes through Intl.
 */
export function formatMoney(cents: number): string {
  if (!Number.isInteger(cents) || cents > FAST_LIMIT_CENTS || cents < -FAST_LIMIT_CENTS) {
    return money.format(cents / 100);
  }
  // Intl writes negative zero as "-0,00 €"; so do we.
  const negative = cents < 0 || Object.is(cents, -0);
  const abs = negative ? -cents : cents;
  const rest = abs % 100;
  const euros = String((abs - rest) / 100);
  let whole = euros;
  if (euros.length > 3) {
    let i = euros.length % 3 || 3;
    whole = euros.slice(0, i);
    for (; i < euros.length; i += 3) whole += GROUP + euros.slice(i, i + 3);
  }
  return `${negative ? '-' : ''}${whole},${rest < 10 ? '0' : ''}${rest}${BEFORE_CURRENCY}€`;
}

const ISO_DATE_START = /^\d{4}-\d{2}-\d{2}/;

/** "2022-03-29" → "29/03/2022". */
export function formatDate(isoDate: string): string {
  // test + slices rather than exec: no match array for each of a statement's thousands of lines.
  if (!ISO_DATE_START.test(isoDate)) return isoDate;
  return `${isoDate.slice(8, 10)}/${isoDate.slice(5, 7)}/${isoDate.slice(0, 4)}`;
}

const instant = new Intl.DateTimeFormat('fr-FR', {
  timeZone: 'Europe/Paris',
  day: '2-digit',
  month: '2-digit',
  year: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
});

/** A UTC instant shown in Paris time: "29/03/2022 à 14:05". */
export function formatInstant(iso: string): string {
  const parts = Object.fromEntries(instant.formatToParts(new Date(iso)).map((p) => [p.type, p.value]));
  return `${parts.day}/${parts.month}/${parts.year} à ${parts.hour}:${parts.minute}`;
}

const longParts = new Intl.DateTimeFormat('fr-FR', {
  timeZone: 'Europe/Paris',
  day: 'numeric',
  month: 'long',
  year: 'numeric',
  hour: 'numeric',
  minute: '2-digit',
});

/** "2026-12-03" → "3 décembre 2026", for sentences (tables keep formatDate). */
export function formatDateLong(isoDate: string): string {
  const d = new Date(`${isoDate.slice(0, 10)}T12:00:00Z`);
  if (Number.isNaN(d.getTime())) return isoDate;
  const p = Object.fromEntries(longParts.formatToParts(d).map((x) => [x.type, x.value]));
  return `${p.day === '1' ? '1er' : p.day} ${p.month} ${p.year}`;
}

/** A UTC instant in Paris time, for sentences: "3 décembre 2026 à 1 h 34". */
export function formatInstantLong(iso: string): string {
  const p = Object.fromEntries(longParts.formatToParts(new Date(iso)).map((x) => [x.type, x.value]));
  return `${p.day === '1' ? '1er' : p.day} ${p.month} ${p.year} à ${Number(p.hour)} h ${p.minute}`;
}

/** Today's calendar date in Paris, as YYYY-MM-DD. */
export function todayInParis(now = new Date()): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Paris' }).format(now);
}

/** "FR7630006000011234567890189" → "FR76 3000 6000 0112 3456 7890 189". */
export function formatIban(iban: string): string {
  return iban
    .replace(/\s+/g, '')
    .replace(/(.{4})/g, '$1 ')
    .trim();
}

/** "jean dupont" style names as the agency writes them: "DUPONT Jean" stays as given. */
export function fullName(first: string | null | undefined, last: string | null | undefined): string {
  return [first, last].filter(Boolean).join(' ');
}

/** "1 document privé", "7 documents publics". */
export function plural(n: number, singular: string, pluralForm: string): string {
  return `${n} ${n <= 1 ? singular : pluralForm}`;
}

/** "12 rue des Alpes, 38000 Grenoble"; empty parts are left out. */
export function formatAddress(address: string | null, postalCode: string | null, city: string | null): string {
  const town = [postalCode, city].filter(Boolean).join(' ');
  return [address, town].filter(Boolean).join(', ');
}
