import { randomInt } from 'node:crypto';
import { hmac } from './tokens.ts';

/** No 0/O, 1/I/L: a code read from paper is typed right the first time. */
export const CODE_ALPHABET = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789';
export const GENERATED_CODE_LENGTH = 12;
export const MIN_IMPORTED_CODE_LENGTH = 8;

/** Codes are typed without regard to case, spaces or dashes. */
export function normalizeAccessCode(code: string): string {
  return code
    .normalize('NFKC')
    .replace(/[\s\-‐‑–—_.]/g, '')
    .toUpperCase();
}

/** A new code, printed in groups of four: "K7QM-2XHP-RT9C". */
export function generateAccessCode(): string {
  let raw = '';
  for (let i = 0; i < GENERATED_CODE_LENGTH; i++) raw += CODE_ALPHABET[randomInt(CODE_ALPHABET.length)];
  return raw.match(/.{1,4}/g)!.join('-');
}

export function hashAccessCode(hmacKey: string, code: string): string {
  return hmac(hmacKey, `access-code:${normalizeAccessCode(code)}`);
}

/** Imported codes are kept as the agency's software printed them, if long enough. */
export function isAcceptableImportedCode(code: string): boolean {
  return normalizeAccessCode(code).length >= MIN_IMPORTED_CODE_LENGTH;
}
