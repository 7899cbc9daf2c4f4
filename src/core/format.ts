const money = new Intl.NumberFormat('fr-FR', { style: 'currency', currency: 'EUR' });

/** 137820 → "1 378,20 €" (with the non-breaking spaces French typography requires). */
export function formatMoney(cents: number): string {
  return money.format(cents / 100);
}

/** "2022-03-29" → "29/03/2022". */
export function formatDate(isoDate: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(isoDate);
  if (!m) return isoDate;
  return `${m[3]}/${m[2]}/${m[1]}`;
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
