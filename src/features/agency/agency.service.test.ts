import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../../../test/helpers/app.ts';
import { dialects } from '../../../test/helpers/db.ts';
import { createStorage, type Storage } from '../../adapters/storage/storage.ts';
import { paymentLimitCents, setAgency } from '../../core/agency/agency.repository.ts';
import { agencyIdentity } from '../../core/agency/agency.ts';
import { createContext, type Ctx } from '../../core/context.ts';
import {
  logoType,
  MAX_LOGO_BYTES,
  normalizeBic,
  normalizeIban,
  updateAgency,
  type AgencyInput,
} from './agency.service.ts';

const PNG = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex');
const JPEG = Buffer.from('ffd8ffe000104a46494600010100000100010000', 'hex');
const SVG =
  '<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><rect width="10" height="10"/></svg>';
const GOOD_IBAN = 'FR76 3000 6000 0112 3456 7890 189';
const BAD_IBAN = 'FR76 3000 6000 0112 3456 7890 188';

describe.each(dialects)('updateAgency (%s)', (dialect) => {
  let t: TestApp;
  let ctx: Ctx;
  let storage: Storage;
  let files: string;

  beforeEach(async () => {
    t = await buildTestApp(dialect);
    files = path.join(t.config.dataDir, 'files');
    storage = createStorage(t.config);
    ctx = createContext({
      db: t.db,
      config: t.config,
      // Trusted for a minute: only invalidate() can make it show the change.
      agency: agencyIdentity(t.db, { recheckMs: 60_000 }),
      actor: { kind: 'staff', name: 'cli', ip: null },
      now: () => t.clock.now,
    });
  });
  afterEach(() => t.close());

  const update = (input: AgencyInput) => updateAgency(ctx, input, storage);

  async function updated(input: AgencyInput) {
    const result = await update(input);
    if (!result.ok) throw new Error(`refused: ${JSON.stringify(result.errors)}`);
    return result.agency;
  }

  async function refusal(input: AgencyInput) {
    const result = await update(input);
    if (result.ok) throw new Error('accepted');
    return result.errors;
  }

  /** Everything an update may write: settings, audit events, stored files. */
  async function written() {
    return {
      settings: await t.db.selectFrom('settings').select(['key', 'value']).orderBy('key').execute(),
      audit: await t.db.selectFrom('audit_events').select(['action', 'details_json']).orderBy('id').execute(),
      files: existsSync(files) ? readdirSync(files).sort() : [],
    };
  }

  const storedFiles = () => (existsSync(files) ? readdirSync(files) : []);

  it('sets the identity, normalising IBAN, BIC and site, shows it at once and audits the change', async () => {
    expect((await ctx.agency.get()).configured).toBe(false);
    const agency = await updated({
      name: ' Cabinet Dauphin ',
      tagline: 'depuis 1904',
      iban: GOOD_IBAN,
      bic: 'agri fr pp',
      website: 'cabinet-dauphin.example',
    });
    expect(agency).toMatchObject({
      configured: true,
      name: 'Cabinet Dauphin',
      iban: 'FR7630006000011234567890189',
      bic: 'AGRIFRPP',
      website: 'https://cabinet-dauphin.example',
      logo: null,
    });
    // The copy this context holds was dropped by the update.
    expect((await ctx.agency.get()).name).toBe('Cabinet Dauphin');

    const [event] = (await written()).audit;
    expect(event!.action).toBe('agency.update');
    const details = JSON.parse(event!.details_json!);
    expect(details.by).toBe('cli');
    expect(details.changes.iban).toEqual({ before: null, after: 'FR7630006000011234567890189' });
    expect(details.changes.name).toEqual({ before: 'Votre espace client', after: 'Cabinet Dauphin' });

    const cleared = await updated({ tagline: '' });
    expect(cleared.tagline).toBeNull();
    expect(cleared.iban).toBe('FR7630006000011234567890189');
  });

  it('asks for the name the first time, and never accepts an empty one', async () => {
    expect(await refusal({ email: 'contact@cabinet.test' })).toEqual([
      { field: 'name', message: 'obligatoire la première fois.' },
    ]);
    await updated({ name: 'Cabinet Dauphin' });
    expect(await refusal({ name: '  ' })).toEqual([{ field: 'name', message: 'le nom ne peut pas être vide.' }]);
  });

  it('refuses a bad IBAN in French', async () => {
    await updated({ name: 'Cabinet Dauphin' });
    expect(await refusal({ iban: BAD_IBAN })).toEqual([
      {
        field: 'iban',
        message: `«\u00a0${BAD_IBAN}\u00a0» n’est pas un IBAN valide (pays de la zone SEPA, longueur et clé de contrôle).`,
      },
    ]);
    expect((await ctx.agency.get()).iban).toBeNull();
  });

  it('takes the payment limit in euros and keeps it in cents; refuses nonsense in French', async () => {
    await updated({ name: 'Cabinet Dauphin' });
    expect(paymentLimitCents(await ctx.agency.get())).toBe(1_000_000);
    for (const [typed, cents] of [
      ['5000', 500_000],
      ['2 500,50', 250_050],
      ['750.5', 75_050],
      ['1\u202f000\u00a0€', 100_000],
    ] as const) {
      const agency = await updated({ paymentLimit: typed });
      expect(agency.paymentLimit, typed).toBe(String(cents));
      expect(paymentLimitCents(agency)).toBe(cents);
    }
    for (const bad of ['0', '-5', 'cinq mille', '1,234', '2000000']) {
      const errors = await refusal({ paymentLimit: bad });
      expect(errors, bad).toHaveLength(1);
      expect(errors[0]!.message).toMatch(/n’est pas un plafond valide \(un montant en euros/);
    }
    // Empty: back to the default.
    expect(paymentLimitCents(await updated({ paymentLimit: '' }))).toBe(1_000_000);
  });

  it.each<[string, AgencyInput]>([
    ['IBAN', { iban: BAD_IBAN }],
    ['BIC', { bic: 'AGRI' }],
    ['email', { email: 'contact@' }],
    ['site', { website: 'pas un site' }],
    ['slogan with a tab', { tagline: 'depuis\t1904' }],
    ['empty name', { name: '' }],
    ['logo', { logo: Buffer.from('<html><body>Bonjour</body></html>') }],
  ])('writes nothing when one field is refused: %s', async (_label, bad) => {
    await updated({ name: 'Cabinet Dauphin', logo: PNG, iban: GOOD_IBAN });
    const before = await written();
    // Every other field is valid, the logo included: none of them is written either.
    const errors = await refusal({
      name: 'Cabinet Rhône',
      tagline: 'depuis 1920',
      email: 'contact@cabinet.test',
      iban: 'DE89 3704 0044 0532 0130 00',
      logo: JPEG,
      ...bad,
    });
    expect(errors).toHaveLength(1);
    expect(await written()).toEqual(before);
    expect(readdirSync(path.join(t.config.dataDir, '.incoming'))).toEqual([]);
  });

  it('refuses an HTML page renamed .png, in French, whatever its name says', async () => {
    const renamed = path.join(t.config.dataDir, 'logo.png');
    writeFileSync(renamed, '<!DOCTYPE html>\n<html><body><svg></svg><script>alert(1)</script></body></html>');
    expect(await refusal({ name: 'Cabinet Dauphin', logo: readFileSync(renamed) })).toEqual([
      { field: 'logo', message: 'le fichier doit être une image PNG, JPEG ou SVG.' },
    ]);
    expect(storedFiles()).toEqual([]);
  });

  it.each([
    ['a script', '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'],
    ['onload', '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>'],
  ])('refuses an SVG with %s, in French', async (_label, svg) => {
    expect(await refusal({ name: 'Cabinet Dauphin', logo: Buffer.from(svg) })).toEqual([
      {
        field: 'logo',
        message:
          'ce SVG contient du code (script, attribut «\u00a0onload\u00a0»…) ou un lien vers un autre fichier\u00a0: exportez-le en SVG simple ou en PNG.',
      },
    ]);
    expect(storedFiles()).toEqual([]);
  });

  it('stores a PNG under a generated name, readable by Palier only, and serves it at /agence/logo', async () => {
    const agency = await updated({ name: 'Cabinet Dauphin', logo: PNG });
    expect(agency.logo).toMatch(/^logo-[0-9a-f]{16}\.png$/);
    expect(storedFiles()).toEqual([agency.logo]);
    const file = path.join(files, agency.logo!);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const details = JSON.parse((await written()).audit[0]!.details_json!);
    expect(details.logo).toMatchObject({ key: agency.logo, size: PNG.length });

    const res = await t.app.inject({ method: 'GET', url: '/agence/logo' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('image/png');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['content-security-policy']).toBe("default-src 'none'; style-src 'unsafe-inline'");
    expect(res.rawPayload.equals(PNG)).toBe(true);
  });

  it('serves a clean SVG as an SVG', async () => {
    const agency = await updated({ name: 'Cabinet Dauphin', logo: Buffer.from(SVG) });
    expect(agency.logo).toMatch(/^logo-[0-9a-f]{16}\.svg$/);
    const res = await t.app.inject({ method: 'GET', url: '/agence/logo' });
    expect(res.headers['content-type']).toBe('image/svg+xml');
    expect(res.body).toBe(SVG);
  });

  it('removes the old file when the logo is replaced or removed', async () => {
    const first = (await updated({ name: 'Cabinet Dauphin', logo: PNG })).logo!;
    const second = (await updated({ logo: JPEG })).logo!;
    expect(second).toMatch(/^logo-[0-9a-f]{16}\.jpg$/);
    expect(storedFiles()).toEqual([second]);
    expect(existsSync(path.join(files, first))).toBe(false);
    const res = await t.app.inject({ method: 'GET', url: '/agence/logo' });
    expect(res.headers['content-type']).toBe('image/jpeg');
    expect(res.rawPayload.equals(JPEG)).toBe(true);

    // Changing another field keeps the logo.
    expect((await updated({ tagline: 'depuis 1904' })).logo).toBe(second);
    expect(storedFiles()).toEqual([second]);

    expect((await updated({ logo: null })).logo).toBeNull();
    expect(storedFiles()).toEqual([]);
    expect((await t.app.inject({ method: 'GET', url: '/agence/logo' })).statusCode).toBe(404);
  });

  it('refuses a logo over 2 Mo', async () => {
    const heavy = Buffer.concat([PNG, Buffer.alloc(MAX_LOGO_BYTES + 1 - PNG.length)]);
    expect(await refusal({ name: 'Cabinet Dauphin', logo: heavy })).toEqual([
      { field: 'logo', message: 'fichier trop lourd (2\u00a0Mo au plus).' },
    ]);
  });

  it('leaves the old logo alone when the setting names no file of ours', async () => {
    // A tampered setting: the update goes through and nothing outside the folder is touched.
    writeFileSync(path.join(t.config.dataDir, 'garder.png'), PNG);
    await setAgency(t.db, { name: 'Cabinet Dauphin', logo: '../garder.png' });
    expect((await t.app.inject({ method: 'GET', url: '/agence/logo' })).statusCode).toBe(404);
    const agency = await updated({ logo: PNG });
    expect(agency.logo).toMatch(/^logo-[0-9a-f]{16}\.png$/);
    expect(existsSync(path.join(t.config.dataDir, 'garder.png'))).toBe(true);
  });
});

describe('agency identity checks', () => {
  it.each([
    ['FR76 3000 6000 0112 3456 7890 189', 'FR7630006000011234567890189'],
    ['fr7630006000011234567890189', 'FR7630006000011234567890189'],
    ['DE89 3704 0044 0532 0130 00', 'DE89370400440532013000'],
    ['BE68 5390 0754 7034', 'BE68539007547034'],
  ])('accepts the IBAN %s', (input, expected) => expect(normalizeIban(input)).toBe(expected));

  it.each(['FR76 3000 6000 0112 3456 7890 188', 'FR76 3000 6000 0112 3456 7890', 'US12 3456 7890 1234', 'IBAN', ''])(
    'refuses the IBAN %s',
    (input) => expect(normalizeIban(input)).toBeNull(),
  );

  it('checks BICs', () => {
    expect(normalizeBic('agri fr pp xxx')).toBe('AGRIFRPPXXX');
    expect(normalizeBic('AGRIFRPP')).toBe('AGRIFRPP');
    expect(normalizeBic('AGRI')).toBeNull();
  });

  it.each([
    ['onload after a slash', '<svg/onload=alert(1)>'],
    ['an event handler on a child', '<svg><rect width="1" height="1" onclick="alert(1)"/></svg>'],
    ['a javascript: link', '<svg><a href="javascript:alert(1)"><rect/></a></svg>'],
    ['an external image', '<svg><image href="https://tracker.example/pixel.png"/></svg>'],
    ['an xlink to another file', '<svg><use xlink:href="autre.svg#logo"/></svg>'],
    ['an external style', '<svg><style>@import "https://exemple.test/a.css";</style></svg>'],
    ['a CSS url()', '<svg><rect style="fill:url(https://exemple.test/motif.svg#m)"/></svg>'],
    ['an entity', '<svg><!ENTITY x SYSTEM "file:///etc/passwd"><text>&x;</text></svg>'],
    ['HTML inside', '<svg><foreignObject><iframe src="https://exemple.test"></iframe></foreignObject></svg>'],
  ])('refuses an SVG with %s', async (_label, svg) => expect(await logoType(Buffer.from(svg))).toBeNull());

  it('accepts in an SVG references to itself and embedded images', async () => {
    const svg =
      '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">' +
      '<defs><linearGradient id="g"/></defs><rect style="fill:url(#g)"/><use xlink:href="#g"/>' +
      '<image href="data:image/png;base64,iVBORw0KGgo="/></svg>';
    expect(await logoType(Buffer.from(svg))).toBe('svg');
  });

  it('judges logos by content', async () => {
    expect(await logoType(PNG)).toBe('png');
    expect(await logoType(JPEG)).toBe('jpg');
    expect(await logoType(Buffer.from(SVG))).toBe('svg');
    expect(await logoType(Buffer.from('\uFEFF<!-- Inkscape -->\n<svg><use href="#a"/></svg>'))).toBe('svg');
    expect(await logoType(Buffer.from('<svg onload="alert(1)"></svg>'))).toBeNull();
    expect(await logoType(Buffer.from('<svg><script>alert(1)</script></svg>'))).toBeNull();
    expect(await logoType(Buffer.from('GIF89a'))).toBeNull();
    expect(await logoType(Buffer.from('<html><svg></svg></html>'))).toBeNull();
    // A PNG signature alone, without the image header after it, is not a PNG.
    expect(await logoType(Buffer.from('89504e470d0a1a0a0000', 'hex'))).toBeNull();
  });
});
