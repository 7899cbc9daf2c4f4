/**
 * The agency's colour, checked and turned into the few shades the stylesheet needs.
 * Contrast per WCAG 2.1 (relative luminance of sRGB colours).
 */

/** WCAG 2.1 AA for body text: the agency's colour is used for links, headings and buttons on white. */
export const MIN_CONTRAST = 4.5;

export type Rgb = [number, number, number];

const HEX = /^#([0-9a-f]{6})$/i;

/** `#RRGGBB` (any case) as its three channels, or null. */
export function parseHexColor(text: string): Rgb | null {
  const m = HEX.exec(text.trim());
  if (!m) return null;
  const n = parseInt(m[1]!, 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

export function toHex([r, g, b]: Rgb): string {
  return `#${[r, g, b].map((c) => Math.round(c).toString(16).padStart(2, '0')).join('')}`.toUpperCase();
}

/** Relative luminance, WCAG 2.1 § 1.4.3. */
export function relativeLuminance(rgb: Rgb): number {
  const [r, g, b] = rgb.map((c) => {
    const s = c / 255;
    return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  }) as Rgb;
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

export function contrastRatio(a: Rgb, b: Rgb): number {
  const [hi, lo] = [relativeLuminance(a), relativeLuminance(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
}

export const WHITE: Rgb = [255, 255, 255];

/** The colour mixed with white (amount 0: the colour, 1: white) or black (negative amounts). */
export function mix(rgb: Rgb, amount: number): Rgb {
  const target = amount >= 0 ? 255 : 0;
  const t = Math.abs(amount);
  return rgb.map((c) => Math.round(c + (target - c) * t)) as Rgb;
}

/** The light grey of panels (--surface in palier.css): the lightest background brand text sits on besides white. */
const SURFACE: Rgb = [0xf5, 0xf7, 0xfa];

export interface BrandShades {
  /** Text, borders and buttons; the agency's colour, darkened only as much as needed on grey panels. */
  brand: string;
  /** Hover states: clearly darker. */
  brandDark: string;
  /** Very light background behind brand text (badges, table heads). */
  brandTint: string;
  /** The same tint, translucent, for table cells over the scrolling shadows. */
  brandWash: string;
}

/**
 * The shades of the stylesheet from one colour already checked against white. Links also sit
 * on the grey panels (footer, filters): a colour just above 4.5:1 on white falls just under it
 * there, so it is darkened step by step until it reads on them too.
 */
export function brandShades(rgb: Rgb): BrandShades {
  let brand = rgb;
  for (let i = 1; contrastRatio(brand, SURFACE) < MIN_CONTRAST && i <= 20; i++) brand = mix(rgb, -0.02 * i);
  // The tint is at least as light as the panels, so brand text stays readable on it.
  let tint = mix(brand, 0.93);
  for (let a = 0.94; relativeLuminance(tint) < relativeLuminance(SURFACE) && a <= 1; a += 0.01) tint = mix(brand, a);
  const [r, g, b] = brand;
  return {
    brand: toHex(brand),
    brandDark: toHex(mix(brand, -0.35)),
    brandTint: toHex(tint),
    brandWash: `rgb(${r} ${g} ${b} / 0.07)`,
  };
}

/** The stylesheet that gives the pages the agency's colour; empty when it has none. */
export function brandStylesheet(color: string | null): string {
  const rgb = color ? parseHexColor(color) : null;
  if (!rgb) return '/* Palier’s own colours (palier.css). */\n';
  const s = brandShades(rgb);
  return `/* The agency’s colour ${toHex(rgb)}. */\n:root {\n  --brand: ${s.brand};\n  --brand-dark: ${s.brandDark};\n  --brand-tint: ${s.brandTint};\n  --brand-wash: ${s.brandWash};\n}\n`;
}

/**
 * Where pages find the colour stylesheet, or null for Palier's own colours. The query changes
 * with the colour, so browsers may keep the file for long and still see a new colour at once.
 */
export function brandStylesheetHref(color: string | null): string | null {
  const rgb = color ? parseHexColor(color) : null;
  return rgb ? `/agence/couleurs.css?v=${toHex(rgb).slice(1)}` : null;
}
