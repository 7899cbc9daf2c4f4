import { describe, expect, it } from 'vitest';
import { maskUrl } from '../src/core/logging.ts';
import { FORBIDDEN_IN_LOGS } from './global-setup.ts';

describe('the log check of the suite', () => {
  it('masks one-time tokens in logged URLs', () => {
    expect(maskUrl('/nouveau-mot-de-passe?jeton=abcDEF123456789012345')).toBe('/nouveau-mot-de-passe?jeton=[masqué]');
    expect(maskUrl('/creer-mon-espace/etape-2?x=1&ticket=abc')).toBe('/creer-mon-espace/etape-2?x=1&ticket=[masqué]');
  });

  it('would catch each kind of secret', () => {
    const leaks = [
      '{"msg":"login","password":"Tr3sB1enCach"}',
      '{"details":{"code":"CODE-123-XY"}}',
      '{"req":{"headers":{"cookie":"palier_session=AbCdEfGhIjKlMnOp"}}}',
      '{"req":{"url":"/nouveau-mot-de-passe?jeton=AbCdEfGhIjKlMnOpQr"}}',
    ];
    for (const line of leaks)
      expect(
        FORBIDDEN_IN_LOGS.some((f) => f.pattern.test(line)),
        line,
      ).toBe(true);
    expect(
      FORBIDDEN_IN_LOGS.some((f) => f.pattern.test('{"req":{"url":"/nouveau-mot-de-passe?jeton=[masqué]"}}')),
    ).toBe(false);
  });
});
