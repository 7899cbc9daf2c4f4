import { auditOperation } from '../../core/audit.ts';
import { inTransaction, type Ctx } from '../../core/context.ts';
import { AppError } from '../../core/errors.ts';
import { generateAccessCode, hashAccessCode } from '../../core/security/access-code.ts';
import { LIMITS, clearAttempts, lockedUntil } from '../../core/security/attempts.ts';
import type { ClientAccount } from '../../db/schema.ts';
import { findAccountByTypedReference, normalizeReference } from '../claim/claim.repository.ts';
import { countHolders, findBuildingOfAccount, replaceAccessCode } from './codes.repository.ts';

/**
 * Staff operations on one account's access code, from `npx palier codes …`: a new code when
 * the letter is lost, and unlocking a reference that too many wrong codes locked.
 */

export interface IssuedCode {
  account: ClientAccount;
  building: { code: string; name: string } | null;
  /** Printed once, for the letter; only its hash is kept. */
  code: string;
  holders: number;
  /** When the reference is locked at « Créez votre espace », the instant it unlocks by itself. */
  lockedUntil: Date | null;
}

export interface Unlocked {
  account: ClientAccount;
  /** The attempts forgotten. */
  cleared: number;
  /** The lock lifted, if the reference was locked. */
  wasLockedUntil: Date | null;
}

function unknownReference(typed: string): AppError {
  return new AppError(
    'unknown_reference',
    'no client account with this reference',
    `Aucun compte client ne porte la référence «\u00a0${typed.trim()}\u00a0»\u202f; rien n’a été modifié.`,
    404,
  );
}

/**
 * Issues a new access code for the account the reference names (as typed on the claim page:
 * case and surrounding spaces aside). The old code stops working at once, and a step 1
 * already passed with it is cancelled.
 */
export async function issueAccessCode(ctx: Ctx, typedReference: string): Promise<IssuedCode> {
  const code = generateAccessCode();
  const hash = hashAccessCode(ctx.config.secrets.hmacKey, code);
  return inTransaction(ctx, async (tx) => {
    const account = await findAccountByTypedReference(tx.db, typedReference);
    if (!account) throw unknownReference(typedReference);
    const now = tx.now();
    await replaceAccessCode(tx.db, account.id, hash, now);
    await auditOperation(tx, {
      action: 'codes.issue',
      outcome: 'success',
      accountId: account.id,
      details: { reference: account.reference },
    });
    return {
      account,
      building:
        account.building_id === null ? null : ((await findBuildingOfAccount(tx.db, account.building_id)) ?? null),
      code,
      holders: await countHolders(tx.db, account.id),
      lockedUntil: await lockedUntil(tx.db, LIMITS.codePerReference, normalizeReference(account.reference), now),
    };
  });
}

/**
 * Clears the wrong-code attempts that lock a reference at « Créez votre espace » and
 * « Ajouter un compte » (they are counted per typed reference, case and spaces aside).
 */
export async function unlockReference(ctx: Ctx, typedReference: string): Promise<Unlocked> {
  return inTransaction(ctx, async (tx) => {
    const account = await findAccountByTypedReference(tx.db, typedReference);
    if (!account) throw unknownReference(typedReference);
    const key = normalizeReference(account.reference);
    const wasLockedUntil = await lockedUntil(tx.db, LIMITS.codePerReference, key, tx.now());
    const cleared = await clearAttempts(tx.db, LIMITS.codePerReference, key);
    await auditOperation(tx, {
      action: 'codes.unlock',
      outcome: 'success',
      accountId: account.id,
      details: { reference: account.reference, cleared, wasLocked: wasLockedUntil !== null },
    });
    return { account, cleared, wasLockedUntil };
  });
}
