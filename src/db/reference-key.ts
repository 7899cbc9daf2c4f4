/**
 * A client reference as it is compared with what people type from paper: without regard
 * to case or surrounding spaces. Every writer of client_accounts stores it in
 * `reference_key`, so that step 1 of "Créez votre espace" finds an account, or finds
 * none, with one indexed lookup.
 */
export function referenceKey(reference: string): string {
  return reference.trim().toUpperCase();
}
