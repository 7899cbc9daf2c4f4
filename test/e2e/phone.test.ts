import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../helpers/app.ts';
import {
  addLedger,
  createBuilding,
  createManager,
  createUser,
  seedAccount,
  TEST_PASSWORD,
} from '../helpers/factories.ts';
import { setAgency } from '../../src/core/agency/agency.repository.ts';
import { Auditor, CHROMIUM, clickAndLoad, formatViolations, launch, screenshot, type Browser } from './browser.ts';

/*
 * Every page of a co-owner's journey at 360 px (a small phone) and at 1 280 px, in Chromium
 * without JavaScript: nothing sticks out on the right, no phone number, amount or navigation
 * label is split over two lines, every amount of a 30-line statement is on screen, and
 * axe-core (WCAG 2.1 A and AA) finds nothing. The agency has its own colour, so the pages
 * are audited with its stylesheet.
 */

const WIDTHS = [360, 1280] as const;
const EMAIL = 'paul.durand@exemple.test';

const noBrowser = !existsSync(CHROMIUM) && !process.env.CI;
if (noBrowser) console.warn(`${CHROMIUM} is missing: the phone layout test is skipped (apt-get install chromium).`);

/** What the page does wrong at its width; every list empty on a good page. */
interface LayoutReport {
  scrollWidth: number;
  innerWidth: number;
  /** Visible elements whose right edge is beyond the viewport. */
  outside: string[];
  /** Amounts, phone numbers and navigation labels laid out over more than one line. */
  split: string[];
  /** Cells of the statement holding an amount, outside the viewport. */
  amountsOutside: string[];
  amounts: number;
}

/** Runs in the page: measures what LayoutReport lists. */
function measureLayout(): LayoutReport {
  const width = window.innerWidth;
  const describe = (el: Element) => {
    const cls =
      typeof el.className === 'string' && el.className ? `.${el.className.trim().split(/\s+/).join('.')}` : '';
    const text = (el.textContent ?? '').trim().replace(/\s+/g, ' ').slice(0, 40);
    return `${el.tagName.toLowerCase()}${cls} « ${text} »`;
  };
  /** Hidden on purpose: visually hidden text, the clipped head of a table shown as blocks. */
  const clippedAway = (el: Element) => {
    for (let e: Element | null = el; e && e !== document.body; e = e.parentElement) {
      const s = getComputedStyle(e);
      if (e.classList.contains('visually-hidden') || s.clipPath !== 'none' || s.clip !== 'auto') return true;
      if (s.display === 'none' || s.visibility === 'hidden') return true;
    }
    return false;
  };
  /** Lines a piece of text is laid out on: the distinct tops of its boxes. */
  const linesOf = (range: Range) => {
    const tops: number[] = [];
    for (const r of Array.from(range.getClientRects())) {
      if (r.width < 1 || r.height < 1) continue;
      if (!tops.some((t) => Math.abs(t - r.top) < r.height / 2)) tops.push(r.top);
    }
    return tops.length;
  };

  const outside: string[] = [];
  for (const el of Array.from(document.querySelectorAll('body *'))) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0 || clippedAway(el)) continue;
    if (r.right > width + 1) outside.push(`${describe(el)} (right ${Math.round(r.right)})`);
  }

  const split: string[] = [];
  // Amounts (fr-FR: narrow no-break spaces, no-break space before €) and French phone numbers.
  const TOKENS = /-?\d{1,3}(?:[\s\u202f]\d{3})*,\d{2}[\s\u00a0]€|(?:\+33[\s.]?|\b0)[1-9](?:[\s.]?\d{2}){4}\b/g;
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;
    if (!parent || clippedAway(parent) || parent.closest('input, textarea, select, option')) continue;
    for (const m of (node.textContent ?? '').matchAll(TOKENS)) {
      const range = document.createRange();
      range.setStart(node, m.index);
      range.setEnd(node, m.index + m[0].length);
      const lines = linesOf(range);
      if (lines > 1) split.push(`« ${m[0]} » in ${describe(parent)}: ${lines} lines`);
    }
  }
  for (const el of Array.from(document.querySelectorAll('.main-nav a, .main-nav button, .num, a[href^="tel:"]'))) {
    if (clippedAway(el)) continue;
    // Its visible text only: the words for screen readers (« débiteur ») sit in a 1 px box of their own.
    const range = document.createRange();
    const texts = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    const tops: number[] = [];
    for (let n = texts.nextNode(); n; n = texts.nextNode()) {
      // A total's label (« Débits ») sits above its amount on a phone, on purpose.
      if (!n.parentElement || clippedAway(n.parentElement) || n.parentElement.closest('.phone-only')) continue;
      range.selectNodeContents(n);
      for (const r of Array.from(range.getClientRects())) {
        if (r.width >= 1 && r.height >= 1 && !tops.some((t) => Math.abs(t - r.top) < r.height / 2)) tops.push(r.top);
      }
    }
    if (tops.length > 1) split.push(`${describe(el)}: ${tops.length} lines`);
  }
  // The navigation itself is one row: « Déconnexion » never alone on a second line.
  const navItems = Array.from(document.querySelectorAll('.main-nav li')).map((li) => li.getBoundingClientRect().top);
  if (navItems.length > 0 && navItems.some((t) => Math.abs(t - navItems[0]!) > 2)) {
    split.push(`the navigation takes ${new Set(navItems.map(Math.round)).size} rows`);
  }

  const amountsOutside: string[] = [];
  const cells = Array.from(document.querySelectorAll('table.statement .num')).filter((el) => !clippedAway(el));
  for (const el of cells) {
    const r = el.getBoundingClientRect();
    if (r.width === 0) continue;
    if (r.left < -1 || r.right > width + 1)
      amountsOutside.push(`${describe(el)} (${Math.round(r.left)}–${Math.round(r.right)})`);
  }
  return {
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: width,
    outside: outside.slice(0, 15),
    split,
    amountsOutside,
    amounts: cells.length,
  };
}

describe.skipIf(noBrowser)('every page at 360 px and at 1 280 px', () => {
  let t: TestApp;
  let base: string;
  let copro: Awaited<ReturnType<typeof seedAccount>>;

  beforeAll(async () => {
    t = await buildTestApp('sqlite');
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const address = t.app.server.address();
    if (!address || typeof address === 'string') throw new Error('the app is not listening on a TCP port');
    base = `http://127.0.0.1:${address.port}`;

    await setAgency(t.db, {
      name: 'Cabinet Heurtier et Associés',
      tagline: 'Syndic de copropriété depuis 1904',
      address: '4 place Grenette, 38000 Grenoble',
      phone: '04 76 46 12 34',
      email: 'contact@cabinet-heurtier.test',
      website: 'https://www.cabinet-heurtier.test',
      iban: 'FR7630006000011234567890189',
      bic: 'AGRIFRPP881',
      color: '#1F5A8C',
    });
    const manager = await createManager(t.db, {
      name: 'ZIANE Aziza',
      email: 'aziza.ziane@agence.test',
      phone: '04 76 00 12 34',
    });
    const building = await createBuilding(t.db, { name: 'Résidence Les Tilleuls du Grésivaudan' });
    copro = await seedAccount(t.db, t.config, {
      kind: 'coproprietaire',
      reference: 'C0006421',
      firstName: 'Paul',
      lastName: 'DURAND',
      email: EMAIL,
      buildingId: building.id,
      managerId: manager.id,
      councilRole: 'membre',
      lots: [
        { number: '0006', type: 'Appartement', description: '4 pièces', shares: 123 },
        { number: '0106', type: 'Cave', description: 'Cave', shares: 4 },
      ],
    });
    // Thirty lines over three years, with amounts up to six figures and long labels.
    const lines: { date: string; label: string; debit?: number; credit?: number }[] = [];
    for (let i = 0; i < 15; i++) {
      const year = 2022 + Math.floor(i / 4);
      const month = String((i % 4) * 3 + 1).padStart(2, '0');
      lines.push({
        date: `${year}-${month}-01`,
        label: `Appel de fonds ${(i % 4) + 1}e trimestre ${year} – budget prévisionnel et fonds de travaux (loi ALUR)`,
        debit: 95_000 + i * 1_234_567,
      });
      lines.push({ date: `${year}-${month}-20`, label: 'Virement reçu', credit: 95_000 + i * 1_200_000 });
    }
    await addLedger(t.db, copro.id, lines);
    const tenant = await seedAccount(t.db, t.config, {
      kind: 'locataire',
      reference: 'L0031877',
      firstName: 'Paul',
      lastName: 'DURAND',
      email: EMAIL,
      managerId: manager.id,
      lots: [{ number: '0012', type: 'Appartement', description: '2 pièces' }],
    });
    await addLedger(t.db, tenant.id, [
      { date: '2022-06-01', label: 'Loyer et charges juin 2022', debit: 68_000 },
      { date: '2022-06-05', label: 'Prélèvement', credit: 68_000 },
    ]);
    const president = await seedAccount(t.db, t.config, {
      kind: 'coproprietaire',
      firstName: 'Anne-Charlotte',
      lastName: 'LEROY-DESCHAMPS',
      buildingId: building.id,
      managerId: manager.id,
      councilRole: 'president',
    });
    await createUser(t.db, { firstName: 'Anne', lastName: 'LEROY', accountIds: [president.id] });
    await createUser(t.db, {
      email: EMAIL,
      firstName: 'Paul',
      lastName: 'DURAND',
      accountIds: [copro.id, tenant.id],
    });
  });

  afterAll(async () => {
    await t?.close();
  });

  it.each(WIDTHS)(
    'at %i px nothing sticks out, no amount or phone number breaks, axe finds nothing',
    async (width) => {
      let browser: Browser | undefined;
      let auditor: Auditor | undefined;
      try {
        [browser, auditor] = await Promise.all([launch({ javaScriptEnabled: false }), Auditor.start()]);
        const page = browser.page;
        await page.setViewportSize({ width, height: 800 });
        const problems: string[] = [];
        let statementAmounts = 0;

        const check = async (name: string) => {
          expect(page.url(), name).not.toContain('/connexion?');
          const r = await page.evaluate(measureLayout);
          if (r.scrollWidth > r.innerWidth) problems.push(`${name}: the page is ${r.scrollWidth} px wide`);
          for (const o of r.outside) problems.push(`${name}: outside the screen: ${o}`);
          for (const s of r.split) problems.push(`${name}: split: ${s}`);
          for (const a of r.amountsOutside) problems.push(`${name}: amount outside the screen: ${a}`);
          statementAmounts += r.amounts;
          await auditor!.audit(page, name);
          await screenshot(page, `phone-${name}`);
        };
        const go = async (name: string, path: string) => {
          const res = await page.goto(`${base}${path}`);
          expect(res?.status(), `${name} (${path})`).toBe(200);
          await check(name);
        };

        await go('connexion', '/');
        await go('creer-mon-espace-1', '/creer-mon-espace');
        await go('mot-de-passe-oublie', '/mot-de-passe-oublie');

        await page.goto(`${base}/`);
        await page.getByLabel('Email').fill(EMAIL);
        await page.getByLabel('Mot de passe').fill(TEST_PASSWORD);
        await clickAndLoad(page, page.getByRole('button', { name: 'Se connecter' }));
        expect(new URL(page.url()).pathname).toBe('/accueil');

        await go('accueil-coproprietaire', '/accueil?onglet=coproprietaire');
        // The agency's colour reaches the page through its stylesheet (the CSP allows no inline style).
        expect(await page.evaluate(() => getComputedStyle(document.querySelector('h1')!).color)).toBe(
          'rgb(31, 90, 140)',
        );
        await go('accueil-locataire', '/accueil?onglet=locataire');
        await go('extrait', `/comptes/${copro.id}/extrait`);
        await go('payer', `/comptes/${copro.id}/payer`);

        // A change of phone number and email, so the page shows its history.
        await page.goto(`${base}/comptes/${copro.id}/coordonnees`);
        await page.getByLabel(/^Téléphone/).fill(width === 360 ? '07 98 76 54 32' : '+33 6 11 22 33 44');
        await clickAndLoad(page, page.getByRole('button', { name: 'Enregistrer mes coordonnées' }));
        await go('coordonnees', `/comptes/${copro.id}/coordonnees`);
        expect(await page.locator('table.history tbody tr').count()).toBeGreaterThan(0);

        await go('conseil-syndical', `/comptes/${copro.id}/conseil-syndical`);
        await go('contact', '/contact');
        await go('profil', '/profil');

        // The statement's 30 lines, their totals and balances were all measured.
        expect(statementAmounts).toBeGreaterThanOrEqual(30 * 2 + 3);
        expect(problems, problems.join('\n')).toEqual([]);
        const failing = auditor.results.filter((r) => r.violations.length > 0);
        expect(
          failing.map((r) => r.name),
          `axe-core (WCAG 2.1 A/AA) found violations:\n\n${formatViolations(failing)}`,
        ).toEqual([]);
      } finally {
        await Promise.allSettled([browser?.close(), auditor?.close()]);
      }
    },
    120_000,
  );
});
