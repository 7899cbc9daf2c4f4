/**
 * The payload of an EPC QR code ("GiroCode", European Payments Council EPC069-12, version
 * 002): a banking app that scans it fills in a SEPA credit transfer — beneficiary, IBAN,
 * amount and remittance — so nothing is typed by hand. Written by hand: a few lines of text
 * with strict limits, which this function enforces rather than let a bank app refuse the code.
 *
 * Lines, separated by LF:
 *   1 service tag "BCD"            2 version "002"          3 character set "1" (UTF-8)
 *   4 identification "SCT"         5 BIC (optional in 002)  6 beneficiary name (≤ 70)
 *   7 IBAN                         8 "EUR" + amount (0.01 to 999999999.99, optional)
 *   9 purpose code (4 letters, optional)
 *  10 structured remittance (RF creditor reference, ≤ 35) — or —
 *  11 unstructured remittance (≤ 140), never both
 *  12 beneficiary-to-originator information (≤ 70, optional)
 * Trailing empty lines are left out; the whole payload is at most 331 bytes.
 */

export interface EpcTransfer {
  bic: string | null;
  name: string;
  iban: string;
  /** Cents; null lets the payer type the amount. */
  amountCents: number | null;
  /** Four capital letters from the ISO 20022 purpose list, e.g. "GDDS"; usually left out. */
  purpose?: string | null;
  /** Free text the beneficiary reads on its statement: the client reference. */
  remittance: string;
  /** Shown to the payer by some apps. */
  information?: string | null;
}

export const EPC_MAX_BYTES = 331;
const MAX_AMOUNT_CENTS = 99_999_999_999;

export class EpcError extends Error {}

/** Line breaks and control characters would shift every later field: replaced by spaces. */
function clean(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ').trim();
}

/** At most `max` characters (code points, so an accent or emoji is never cut in half). */
function clip(text: string, max: number): string {
  const chars = [...text];
  return chars.length <= max ? text : chars.slice(0, max).join('').trimEnd();
}

/** "EUR1378.20" from 137820 cents. */
export function epcAmount(cents: number): string {
  if (!Number.isSafeInteger(cents) || cents < 1 || cents > MAX_AMOUNT_CENTS) {
    throw new EpcError(`amount out of the EPC range: ${cents}`);
  }
  return `EUR${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`;
}

export function epcPayload(t: EpcTransfer): string {
  const iban = t.iban.replace(/\s+/g, '').toUpperCase();
  if (!/^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$/.test(iban)) throw new EpcError('IBAN of the wrong shape');
  const bic = t.bic ? t.bic.replace(/\s+/g, '').toUpperCase() : '';
  if (bic && !/^[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?$/.test(bic)) throw new EpcError('BIC of the wrong shape');
  const name = clip(clean(t.name), 70);
  if (name === '') throw new EpcError('beneficiary name is required');
  const purpose = t.purpose ? t.purpose.toUpperCase() : '';
  if (purpose && !/^[A-Z]{4}$/.test(purpose)) throw new EpcError('purpose must be four letters');
  const lines = [
    'BCD',
    '002',
    '1',
    'SCT',
    bic,
    name,
    iban,
    t.amountCents === null ? '' : epcAmount(t.amountCents),
    purpose,
    '', // structured remittance: not used, the unstructured one carries the reference
    clip(clean(t.remittance), 140),
    clip(clean(t.information ?? ''), 70),
  ];
  // Only long accented texts can pass 331 bytes: the free texts give way, information first.
  while (byteLength(lines) > EPC_MAX_BYTES && lines[11] !== '') lines[11] = [...lines[11]!].slice(0, -1).join('');
  while (byteLength(lines) > EPC_MAX_BYTES && lines[10] !== '') lines[10] = [...lines[10]!].slice(0, -1).join('');
  lines[10] = lines[10]!.trimEnd();
  lines[11] = lines[11]!.trimEnd();
  if (byteLength(lines) > EPC_MAX_BYTES) throw new EpcError('payload longer than 331 bytes');
  while (lines[lines.length - 1] === '') lines.pop();
  return lines.join('\n');
}

function byteLength(lines: string[]): number {
  return Buffer.byteLength(lines.join('\n'), 'utf8');
}
