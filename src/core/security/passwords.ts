import { hash, verify } from '@node-rs/argon2';

/** OWASP's argon2id recommendation: 19 MiB, 2 passes, 1 lane. */
const OPTIONS = {
  algorithm: 2 /* Algorithm.Argon2id: a const enum, unavailable under isolatedModules */,
  memoryCost: 19456,
  timeCost: 2,
  parallelism: 1,
} as const;

/**
 * The form of a password that is checked, hashed and verified (RFC 8265 OpaqueString):
 * every space character becomes U+0020 and the whole is NFC. The same « é » arrives as one
 * code point from one keyboard and as « e » + U+0301 from another; a phone inserts U+00A0
 * or U+202F where a computer types a plain space. Without this, a password set on one
 * device could not be typed on another.
 */
export function normalizePassword(password: string): string {
  return password.replace(/\p{Zs}/gu, ' ').normalize('NFC');
}

export function hashPassword(password: string): Promise<string> {
  return hash(normalizePassword(password), OPTIONS);
}

let dummyHash: Promise<string> | null = null;

/**
 * Verifies against the stored hash, or against a throwaway hash when there is none, so
 * an unknown email takes as long to refuse as a wrong password (no enumeration by timing).
 * Hashes made before normalisation were made from the password exactly as typed: when the
 * normalised form fails and differs, the raw form is tried, so nobody is locked out. That
 * second try depends only on what was typed, never on whether the account exists.
 */
export async function verifyPassword(stored: string | null | undefined, password: string): Promise<boolean> {
  dummyHash ??= hashPassword('palier-dummy-password-for-timing');
  const target = stored ?? (await dummyHash);
  const normalized = normalizePassword(password);
  let ok = await verifySafely(target, normalized);
  if (!ok && normalized !== password) ok = await verifySafely(target, password);
  return ok && !!stored;
}

async function verifySafely(target: string, password: string): Promise<boolean> {
  try {
    return await verify(target, password);
  } catch {
    return false;
  }
}
