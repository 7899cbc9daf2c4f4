import { describe, expect, it } from 'vitest';
import { formatDate, formatMoney } from './format.ts';

const intl = new Intl.NumberFormat('fr-FR', { style: 'currency', currency: 'EUR' });
const viaIntl = (cents: number) => intl.format(cents / 100);

/** A reproducible spread of integers (mulberry32), so a failure names the same value every run. */
function randomInts(seed: number, count: number, max: number): number[] {
  let a = seed;
  const next = () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return Array.from({ length: count }, () => {
    // Spread over every order of magnitude, not only the large ones.
    const magnitude = 10 ** Math.floor(next() * Math.log10(max));
    const v = Math.floor(next() * magnitude * 10);
    return next() < 0.5 ? -v : v;
  });
}

/** Values that differ from Intl, with both writings, for a readable failure. */
function mismatches(values: number[]): { cents: number; ours: string; intl: string }[] {
  return values
    .filter((c) => formatMoney(c) !== viaIntl(c))
    .slice(0, 5)
    .map((c) => ({ cents: c, ours: formatMoney(c), intl: viaIntl(c) }));
}

describe('formatMoney', () => {
  it('writes French amounts: narrow no-break space between thousands, no-break space before €', () => {
    expect(formatMoney(-137_820)).toBe('-1\u202f378,20\u00a0€');
    expect(formatMoney(0)).toBe('0,00\u00a0€');
    expect(formatMoney(-1)).toBe('-0,01\u00a0€');
    expect(formatMoney(5)).toBe('0,05\u00a0€');
    expect(formatMoney(99_999)).toBe('999,99\u00a0€');
    expect(formatMoney(100_000)).toBe('1\u202f000,00\u00a0€');
    expect(formatMoney(1e9)).toBe('10\u202f000\u202f000,00\u00a0€');
    expect(formatMoney(-123_456_789_012)).toBe('-1\u202f234\u202f567\u202f890,12\u00a0€');
  });

  it('writes exactly what Intl.NumberFormat fr-FR EUR writes, character for character', () => {
    const edges = [0, -0, 1, -1, 9, 10, 99, 100, 101, 1e9, -1e9, 1e9 + 1, 2 ** 31, -(2 ** 31), 1e15, -1e15, 1e15 - 1];
    for (let p = 0; p <= 15; p++) {
      for (const v of [10 ** p - 1, 10 ** p, 10 ** p + 1, 10 ** p * 7 + 5]) edges.push(v, -v);
    }
    expect(mismatches(edges)).toEqual([]);
    // Every amount up to ±2 000 €, cent by cent: all the groupings and decimals of everyday amounts.
    const everyCent = Array.from({ length: 400_001 }, (_, i) => i - 200_000);
    expect(mismatches(everyCent)).toEqual([]);
    expect(mismatches(randomInts(42, 200_000, 1e15))).toEqual([]);
  });

  it('leaves what is not a whole number of cents, or too large, to Intl itself', () => {
    const odd = [0.5, -0.4, 1.005, 12_345.678, NaN, Infinity, -Infinity, 1e15 + 1, -1e15 - 100, 2 ** 53, 1e21, 1e300];
    expect(mismatches(odd)).toEqual([]);
  });
});

describe('formatDate', () => {
  it('turns ISO dates into dd/mm/yyyy and leaves anything else as it is', () => {
    expect(formatDate('2022-03-29')).toBe('29/03/2022');
    expect(formatDate('2022-03-29T23:00:00Z')).toBe('29/03/2022');
    expect(formatDate('29/03/2022')).toBe('29/03/2022');
    expect(formatDate('2022-3-29')).toBe('2022-3-29');
    expect(formatDate('')).toBe('');
  });
});
