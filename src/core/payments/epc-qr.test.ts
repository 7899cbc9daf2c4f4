import { describe, expect, it } from 'vitest';
import { decodeQrDataUrl } from '../../../test/helpers/qr.ts';
import { qrPngDataUrl } from '../../adapters/qr/qr.ts';
import { EPC_MAX_BYTES, EpcError, epcAmount, epcPayload } from './epc-qr.ts';

const BASE = {
  bic: 'AGRIFRPP',
  name: 'Syndicat des copropriétaires Résidence Les Tilleuls',
  iban: 'FR76 3000 6000 0112 3456 7890 189',
  amountCents: 137_820,
  remittance: 'C0042',
};

describe('EPC QR code payload (EPC069-12, version 002)', () => {
  it('writes the twelve fields in order, one per line, without trailing empty ones', () => {
    expect(epcPayload(BASE)).toBe(
      [
        'BCD',
        '002',
        '1',
        'SCT',
        'AGRIFRPP',
        'Syndicat des copropriétaires Résidence Les Tilleuls',
        'FR7630006000011234567890189',
        'EUR1378.20',
        '',
        '',
        'C0042',
      ].join('\n'),
    );
    expect(epcPayload({ ...BASE, bic: null, amountCents: null, purpose: 'gdds', information: 'Merci' })).toBe(
      'BCD\n002\n1\nSCT\n\nSyndicat des copropriétaires Résidence Les Tilleuls\nFR7630006000011234567890189\n\nGDDS\n\nC0042\nMerci',
    );
  });

  it('formats amounts as EUR with a point and two decimals, within 0.01 and 999 999 999.99', () => {
    expect(epcAmount(1)).toBe('EUR0.01');
    expect(epcAmount(100)).toBe('EUR1.00');
    expect(epcAmount(99_999_999_999)).toBe('EUR999999999.99');
    for (const bad of [0, -5, 1.5, 100_000_000_000, Number.NaN])
      expect(() => epcAmount(bad), String(bad)).toThrow(EpcError);
  });

  it('keeps names to 70 characters, remittance to 140, and no line break inside a field', () => {
    const payload = epcPayload({
      ...BASE,
      name: `Syndicat des copropriétaires ${'Très Longue Résidence '.repeat(5)}`,
      remittance: `C0042\nRF${'x'.repeat(200)}`,
    });
    const lines = payload.split('\n');
    expect(lines).toHaveLength(11);
    expect([...lines[5]!].length).toBeLessThanOrEqual(70);
    expect(lines[5]).toMatch(/^Syndicat des copropriétaires Très Longue Résidence/);
    expect([...lines[10]!].length).toBeLessThanOrEqual(140);
    expect(lines[10]).toMatch(/^C0042 RFxxx/);
    expect(Buffer.byteLength(payload)).toBeLessThanOrEqual(EPC_MAX_BYTES);
  });

  it('stays within 331 bytes whatever the accents, shortening the free texts', () => {
    const payload = epcPayload({
      ...BASE,
      name: 'é'.repeat(70),
      remittance: 'é'.repeat(140),
      information: 'é'.repeat(70),
    });
    expect(Buffer.byteLength(payload)).toBeLessThanOrEqual(EPC_MAX_BYTES);
    expect(payload.split('\n')[5]).toBe('é'.repeat(70));
  });

  it('refuses what a bank app would refuse', () => {
    expect(() => epcPayload({ ...BASE, iban: 'pas un iban' })).toThrow(EpcError);
    expect(() => epcPayload({ ...BASE, bic: 'AGRI' })).toThrow(EpcError);
    expect(() => epcPayload({ ...BASE, name: ' \n ' })).toThrow(EpcError);
    expect(() => epcPayload({ ...BASE, purpose: 'GD' })).toThrow(EpcError);
  });

  it('reads back from the QR image exactly, accents included', async () => {
    const payload = epcPayload(BASE);
    const url = await qrPngDataUrl(payload);
    expect(url).toMatch(/^data:image\/png;base64,/);
    expect(decodeQrDataUrl(url)).toBe(payload);
  });
});
