import { fileTypeFromBuffer } from 'file-type';
import { electronicFormatIBAN, isSEPACountry, isValidBIC, isValidIBAN } from 'ibantools';
import type { Storage, StoredFile } from '../../adapters/storage/storage.ts';
import { AGENCY_KEYS, getAgency, setAgency, type Agency, type AgencyKey } from '../../core/agency/agency.repository.ts';
import { contrastRatio, MIN_CONTRAST, parseHexColor, toHex, WHITE } from '../../core/agency/colors.ts';
import { writeAudit } from '../../core/audit.ts';
import { actorIp, actorUserId, inTransaction, type Ctx } from '../../core/context.ts';
import { controlCharacterIn, isValidEmail } from '../imports/fields.ts';

/**
 * What the agency changes in its identity. A field left out is kept; an empty text (or a
 * null logo) clears it, except the name, which pages and mails always show.
 */
export type AgencyInput = Partial<Record<Exclude<AgencyKey, 'logo'>, string>> & {
  /** The logo's content (PNG, JPEG or SVG), or null to remove it. */
  logo?: Uint8Array | null;
};

/** A refused field and why, in French, to show next to the field (or its command-line option). */
export interface FieldError {
  field: AgencyKey;
  message: string;
}

export type UpdateAgencyResult = { ok: true; agency: Agency } | { ok: false; errors: FieldError[] };

export const MAX_LOGO_BYTES = 2 * 1024 * 1024;

/**
 * Checks every field, then stores the new logo, writes the identity and its audit event in
 * one transaction, and only then removes the old logo. Any refused field leaves everything
 * as it was: nothing is stored or written.
 */
export async function updateAgency(ctx: Ctx, input: AgencyInput, storage: Storage): Promise<UpdateAgencyResult> {
  const current = await getAgency(ctx.db);
  const errors: FieldError[] = [];
  const update: Partial<Record<AgencyKey, string | null>> = {};

  for (const field of AGENCY_KEYS) {
    if (field === 'logo') continue;
    const raw = input[field];
    if (raw === undefined) continue;
    const checked = checkText(field, raw.trim());
    if ('error' in checked) errors.push({ field, message: checked.error });
    else update[field] = checked.value;
  }

  let logoKind: LogoKind | null = null;
  if (input.logo) {
    const judged = await judgeLogo(input.logo);
    if ('error' in judged) errors.push({ field: 'logo', message: judged.error });
    else logoKind = judged.kind;
  }

  if (!current.configured && update.name === undefined && !errors.some((e) => e.field === 'name')) {
    errors.push({ field: 'name', message: 'obligatoire la première fois.' });
  }
  if (errors.length > 0) {
    ctx.log.info({ fields: errors.map((e) => e.field) }, 'agency update refused');
    return { ok: false, errors: sortByField(errors) };
  }

  let stored: StoredFile | null = null;
  if (input.logo && logoKind) stored = await storage.put(input.logo, { ext: logoKind, prefix: 'logo' });
  if (input.logo !== undefined) update.logo = stored?.key ?? null;

  try {
    await inTransaction(ctx, async (trx) => {
      await setAgency(trx.db, update);
      await writeAudit(trx.db, {
        action: 'agency.update',
        outcome: 'success',
        userId: actorUserId(ctx.actor),
        ip: actorIp(ctx.actor),
        at: ctx.now(),
        details: {
          by: ctx.actor.kind === 'staff' || ctx.actor.kind === 'system' ? ctx.actor.name : ctx.actor.kind,
          // Before and after: a changed IBAN is what staff will want to trace.
          changes: changesOf(current, update),
          ...(stored ? { logo: stored } : {}),
        },
      });
    });
  } catch (err) {
    // The identity still names the old logo: the new file would be an orphan.
    if (stored) await storage.delete(stored.key).catch(() => {});
    throw err;
  }

  if (update.logo !== undefined && current.logo && current.logo !== update.logo) {
    // After the commit: a failure here leaves an unused file, never a page without its logo.
    await storage.delete(current.logo).catch((err: unknown) => {
      ctx.log.warn({ key: current.logo, err: (err as Error).message }, 'old agency logo not removed');
    });
  }
  ctx.agency.invalidate();
  return { ok: true, agency: await ctx.agency.get() };
}

type Checked = { value: string | null } | { error: string };

/** One text field, trimmed: its value to store, or why it is refused. */
function checkText(field: Exclude<AgencyKey, 'logo'>, value: string): Checked {
  if (value === '') return field === 'name' ? { error: 'le nom ne peut pas être vide.' } : { value: null };
  // Shown on every page and mail: no tab, line break or other invisible control character.
  const control = controlCharacterIn(value);
  if (control) return { error: `${control}.` };
  switch (field) {
    case 'email':
      return isValidEmail(value) ? { value } : { error: `«\u00a0${value}\u00a0» n’est pas une adresse email valide.` };
    case 'website': {
      const url = /^https?:\/\//i.test(value) ? value : `https://${value}`;
      return URL.canParse(url) && new URL(url).hostname.includes('.')
        ? { value: url }
        : { error: `«\u00a0${value}\u00a0» n’est pas une adresse de site valide.` };
    }
    case 'iban': {
      const iban = normalizeIban(value);
      return iban
        ? { value: iban }
        : {
            error: `«\u00a0${value}\u00a0» n’est pas un IBAN valide (pays de la zone SEPA, longueur et clé de contrôle).`,
          };
    }
    case 'bic': {
      const bic = normalizeBic(value);
      return bic ? { value: bic } : { error: `«\u00a0${value}\u00a0» n’est pas un BIC valide (8 ou 11 caractères).` };
    }
    case 'paymentLimit': {
      const cents = parseEuros(value);
      return cents !== null && cents > 0 && cents <= MAX_PAYMENT_LIMIT_CENTS
        ? { value: String(cents) }
        : {
            error: `«\u00a0${value}\u00a0» n’est pas un plafond valide (un montant en euros, par exemple 5000 ou 2500,50, entre 0,01 et 1\u202f000\u202f000).`,
          };
    }
    case 'color':
      return checkColor(value);
    default:
      return { value };
  }
}

/** Beyond a million euros a card or transfer limit means nothing. */
const MAX_PAYMENT_LIMIT_CENTS = 100_000_000;

/** "5000", "5 000", "2500,50", "2500.5" → cents; null when it is not an amount. */
export function parseEuros(input: string): number | null {
  const m = /^(\d{1,12})(?:[.,](\d{1,2}))?$/.exec(input.replace(/[\s\u00a0\u202f€]/g, ''));
  if (!m) return null;
  return Number(m[1]) * 100 + Number((m[2] ?? '0').padEnd(2, '0'));
}

/** `#RRGGBB`, readable as text on white (WCAG 2.1 AA), stored in upper case. */
export function checkColor(value: string): Checked {
  const rgb = parseHexColor(value);
  if (!rgb) return { error: `«\u00a0${value}\u00a0» n’est pas une couleur au format #RRGGBB (par exemple #1F5A8C).` };
  const ratio = contrastRatio(rgb, WHITE);
  if (ratio < MIN_CONTRAST) {
    // Rounded down: a 4.48 must never read as an acceptable 4.5.
    const shown = (Math.floor(ratio * 100) / 100).toFixed(2).replace('.', ',');
    return {
      error: `la couleur ${toHex(rgb)} est trop claire\u00a0: son contraste avec le blanc est de ${shown}\u00a0:\u00a01, il faut au moins 4,5\u00a0:\u00a01 pour que les textes restent lisibles (WCAG AA). Choisissez une teinte plus foncée.`,
    };
  }
  return { value: toHex(rgb) };
}

function sortByField(errors: FieldError[]): FieldError[] {
  const rank = (f: AgencyKey) => AGENCY_KEYS.indexOf(f);
  // Stable: a field's own problem comes before "obligatoire la première fois".
  return [...errors].sort((a, b) => rank(a.field) - rank(b.field));
}

function changesOf(current: Agency, update: Partial<Record<AgencyKey, string | null>>) {
  const changes: Partial<Record<AgencyKey, { before: string | null; after: string | null }>> = {};
  for (const [field, after] of Object.entries(update) as [AgencyKey, string | null][]) {
    if (current[field] !== after) changes[field] = { before: current[field], after };
  }
  return changes;
}

/**
 * The IBAN without spaces, or null unless it is valid (country format, length, mod-97
 * check digits) and from a SEPA country: "Payer" by transfer only makes sense in euros.
 */
export function normalizeIban(input: string): string | null {
  const iban = electronicFormatIBAN(input.replace(/[\u00a0-]/g, ''));
  return iban && isValidIBAN(iban) && isSEPACountry(iban.slice(0, 2)) ? iban : null;
}

export function normalizeBic(input: string): string | null {
  const bic = input.replace(/\s/g, '').toUpperCase();
  return isValidBIC(bic) ? bic : null;
}

type LogoKind = 'png' | 'jpg' | 'svg';

/** The logo's kind judged from its content, never from its name; null when refused. */
export async function logoType(content: Uint8Array): Promise<LogoKind | null> {
  const judged = await judgeLogo(content);
  return 'kind' in judged ? judged.kind : null;
}

async function judgeLogo(content: Uint8Array): Promise<{ kind: LogoKind } | { error: string }> {
  if (content.length > MAX_LOGO_BYTES) return { error: 'fichier trop lourd (2\u00a0Mo au plus).' };
  // file-type reads the signatures and structure of binary formats; an animated PNG is still a PNG.
  const detected = await fileTypeFromBuffer(content);
  if (detected?.ext === 'png' || detected?.ext === 'apng') return { kind: 'png' };
  if (detected?.ext === 'jpg') return { kind: 'jpg' };
  // SVG is text, which file-type cannot judge (it calls it XML at best): checked by hand.
  const text = Buffer.from(content)
    .toString('utf8')
    .replace(/^\uFEFF/, '');
  if (!SVG_PROLOG.test(text)) return { error: 'le fichier doit être une image PNG, JPEG ou SVG.' };
  if (!isInertSvg(text)) {
    return {
      error:
        'ce SVG contient du code (script, attribut «\u00a0onload\u00a0»…) ou un lien vers un autre fichier\u00a0: exportez-le en SVG simple ou en PNG.',
    };
  }
  return { kind: 'svg' };
}

/** Starts like an SVG document: an XML declaration, comments or a doctype, then <svg. */
const SVG_PROLOG = /^\s*(<\?xml[^>]*>\s*)?((<!--[\s\S]*?-->|<!DOCTYPE[^>]*>)\s*)*<svg[\s>/]/i;

/**
 * Scripts (elements, event attributes, javascript: URLs, HTML inside foreignObject), entity
 * declarations (which can pull in other files) and style imports: any of them refuses the
 * logo, even though browsers run none of it in an <img>, because the file is also served
 * on its own at /agence/logo.
 */
const SVG_ACTIVE = /<script|<foreignObject|<!ENTITY|@import|javascript:|[\s/"':]on[a-z]+\s*=/i;

/** href, src and url(…) values: only a fragment of the same file or an embedded image. */
const SVG_REFERENCE = /\b(?:href|src)\s*=\s*["']?\s*([^"'\s>]*)|url\(\s*["']?\s*([^"')\s]*)/gi;
const INTERNAL_REFERENCE = /^(#|data:image\/(png|jpeg|gif);)/i;

function isInertSvg(text: string): boolean {
  if (SVG_ACTIVE.test(text)) return false;
  for (const m of text.matchAll(SVG_REFERENCE)) {
    if (!INTERNAL_REFERENCE.test(m[1] ?? m[2] ?? '')) return false;
  }
  return true;
}
