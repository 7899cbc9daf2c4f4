import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../../../test/helpers/app.ts';
import { dialects } from '../../../test/helpers/db.ts';
import { createStorage } from '../../adapters/storage/storage.ts';
import { agencyIdentity } from '../../core/agency/agency.ts';
import { brandShades, contrastRatio, parseHexColor, WHITE } from '../../core/agency/colors.ts';
import { createContext, type Ctx } from '../../core/context.ts';
import { DEMO_COLOR, loadDemo } from '../imports/demo.ts';
import { updateAgency, type AgencyInput } from './agency.service.ts';

const publicDir = fileURLToPath(new URL('../../../public/', import.meta.url));

describe.each(dialects)('the agency’s colour, logo and favicon (%s)', (dialect) => {
  let t: TestApp;
  let ctx: Ctx;

  beforeEach(async () => {
    t = await buildTestApp(dialect);
    ctx = createContext({
      db: t.db,
      config: t.config,
      agency: agencyIdentity(t.db),
      actor: { kind: 'staff', name: 'cli', ip: null },
    });
  });
  afterEach(() => t.close());

  const update = (input: AgencyInput) => updateAgency(ctx, input, createStorage(t.config));
  const settings = () => t.db.selectFrom('settings').select(['key', 'value']).orderBy('key').execute();
  const audits = () => t.db.selectFrom('audit_events').select('id').execute();
  const loginPage = async () => (await t.app.inject({ method: 'GET', url: '/' })).body;

  it.each([
    ['1F5A8C', '«\u00a01F5A8C\u00a0» n’est pas une couleur au format #RRGGBB (par exemple #1F5A8C).'],
    ['#1F5A8', '«\u00a0#1F5A8\u00a0» n’est pas une couleur au format #RRGGBB (par exemple #1F5A8C).'],
    ['bleu', '«\u00a0bleu\u00a0» n’est pas une couleur au format #RRGGBB (par exemple #1F5A8C).'],
    ['#GG5A8C', '«\u00a0#GG5A8C\u00a0» n’est pas une couleur au format #RRGGBB (par exemple #1F5A8C).'],
    [
      'red;}body{display:none',
      '«\u00a0red;}body{display:none\u00a0» n’est pas une couleur au format #RRGGBB (par exemple #1F5A8C).',
    ],
    [
      '#FFD700',
      'la couleur #FFD700 est trop claire\u00a0: son contraste avec le blanc est de 1,40\u00a0:\u00a01, il faut au moins 4,5\u00a0:\u00a01 pour que les textes restent lisibles (WCAG AA). Choisissez une teinte plus foncée.',
    ],
    // #777777 is 4.48:1: just under, shown rounded down so it never reads as enough.
    [
      '#777777',
      'la couleur #777777 est trop claire\u00a0: son contraste avec le blanc est de 4,47\u00a0:\u00a01, il faut au moins 4,5\u00a0:\u00a01 pour que les textes restent lisibles (WCAG AA). Choisissez une teinte plus foncée.',
    ],
  ])('refuses the colour %s, says why and writes nothing', async (color, message) => {
    await update({ name: 'Cabinet Dauphin', color: '#123E6B' });
    const [before, auditsBefore] = [await settings(), await audits()];
    const result = await update({ name: 'Cabinet Rhône', color });
    expect(result).toEqual({ ok: false, errors: [{ field: 'color', message }] });
    expect(await settings()).toEqual(before);
    expect(await audits()).toEqual(auditsBefore);
    expect(await loginPage()).toContain('/agence/couleurs.css?v=123E6B');
  });

  it('uses an accepted colour in a stylesheet the pages link after palier.css, and forgets it when cleared', async () => {
    expect(await loginPage()).not.toContain('couleurs.css');
    const result = await update({ name: 'Cabinet Dauphin', color: ' #1f5a8c ' });
    expect(result.ok && result.agency.color).toBe('#1F5A8C');

    const page = await loginPage();
    const links = [...page.matchAll(/<link rel="stylesheet" href="([^"]+)"/g)].map((m) => m[1]);
    expect(links).toEqual(['/static/palier.css', '/agence/couleurs.css?v=1F5A8C']);

    const css = await t.app.inject({ method: 'GET', url: '/agence/couleurs.css?v=1F5A8C' });
    expect(css.statusCode).toBe(200);
    expect(css.headers['content-type']).toBe('text/css; charset=utf-8');
    expect(css.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(css.body).toContain('--brand: #1F5A8C;');
    expect(css.body).toMatch(/--brand-dark: #[0-9A-F]{6};/);
    // An old link (another colour) gets today's colour, not kept for a year.
    const stale = await t.app.inject({ method: 'GET', url: '/agence/couleurs.css?v=123E6B' });
    expect(stale.headers['cache-control']).toBe('no-cache');
    expect(stale.body).toContain('--brand: #1F5A8C;');

    await update({ color: '' });
    expect(await loginPage()).not.toContain('couleurs.css');
    expect((await t.app.inject({ method: 'GET', url: '/agence/couleurs.css' })).body).not.toContain('--brand');
  });

  it('links an SVG favicon with a PNG fallback, and answers /favicon.ico', async () => {
    const page = await loginPage();
    expect(page).toContain('<link rel="icon" href="/static/favicon.svg" type="image/svg+xml"/>');
    expect(page).toContain('<link rel="icon" href="/static/favicon.png" type="image/png" sizes="32x32"/>');
    const png = readFileSync(path.join(publicDir, 'favicon.png'));
    for (const [url, type] of [
      ['/static/favicon.svg', 'image/svg+xml'],
      ['/static/favicon.png', 'image/png'],
      ['/favicon.ico', 'image/png'],
    ] as const) {
      const res = await t.app.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(200);
      expect(res.headers['content-type'], url).toContain(type);
      if (type === 'image/png') expect(res.rawPayload.equals(png), url).toBe(true);
    }
  });

  it('gives the demonstration agency a logo and a colour through the same service', async () => {
    // The demo writes many rows in long transactions: no polling worker on the same SQLite file meanwhile.
    await t.worker.stop();
    const dataDir = t.config.dataDir;
    const result = await loadDemo(t.db, t.config, (input) => updateAgency(ctx, input, createStorage({ dataDir })));
    expect(result.agencySet).toBe(true);
    const logo = await t.app.inject({ method: 'GET', url: '/agence/logo' });
    expect(logo.statusCode).toBe(200);
    expect(logo.headers['content-type']).toBe('image/svg+xml');
    const href = /<link rel="stylesheet" href="(\/agence\/couleurs\.css[^"]*)"/.exec(await loginPage())?.[1];
    expect(href).toBe(`/agence/couleurs.css?v=${DEMO_COLOR.slice(1)}`);
    expect((await t.app.inject({ method: 'GET', url: href! })).body).toContain(`--brand: ${DEMO_COLOR};`);
  });
});

describe('colour contrast (WCAG 2.1)', () => {
  const ratio = (hex: string) => contrastRatio(parseHexColor(hex)!, WHITE);

  it('measures the contrast of known colours against white', () => {
    expect(ratio('#000000')).toBeCloseTo(21, 5);
    expect(ratio('#FFFFFF')).toBeCloseTo(1, 5);
    expect(ratio('#767676')).toBeCloseTo(4.54, 2);
    expect(ratio('#777777')).toBeCloseTo(4.48, 2);
    expect(ratio('#123E6B')).toBeCloseTo(10.9, 1);
  });

  it('keeps every shade readable on the light panels, even for a colour just above 4.5:1', () => {
    const surface = parseHexColor('#F5F7FA')!;
    for (const hex of ['#767676', '#1F5A8C', '#B3261E', '#0B7A3E']) {
      const s = brandShades(parseHexColor(hex)!);
      const brand = parseHexColor(s.brand)!;
      expect(contrastRatio(brand, surface), hex).toBeGreaterThanOrEqual(4.5);
      expect(contrastRatio(brand, parseHexColor(s.brandTint)!), hex).toBeGreaterThanOrEqual(4.5);
      expect(contrastRatio(parseHexColor(s.brandDark)!, WHITE), hex).toBeGreaterThan(contrastRatio(brand, WHITE));
    }
    // A colour that reads well everywhere is used as it is.
    expect(brandShades(parseHexColor('#1F5A8C')!).brand).toBe('#1F5A8C');
  });
});
