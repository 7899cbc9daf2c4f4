import { existsSync, readFileSync } from 'node:fs';
import PDFDocument from 'pdfkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { buildTestApp, type TestApp } from '../helpers/app.ts';
import { createBuilding, createManager, createUser, seedAccount } from '../helpers/factories.ts';
import { createContext } from '../../src/core/context.ts';
import { publishDocuments } from '../../src/features/documents/documents.service.ts';
import {
  Auditor,
  CHROMIUM,
  clickAndLoad,
  formatViolations,
  horizontalOverflow,
  launch,
  mainText,
  screenshot,
  type Browser,
} from './browser.ts';

/*
 * The document spaces walked in a real Chromium without JavaScript, on a desktop and on a
 * phone: a council member signs in, reads the counts on the home page, opens each of the three
 * spaces, downloads a real PDF from each (the « Nouveau » mark goes once it is opened), then a
 * plain copropriétaire of the same building finds no council space, and its URL answers the
 * very 404 page an unknown account does. Every page visited goes through axe-core.
 */

const WIDTHS = [
  { name: 'desktop', width: 1280, height: 800 },
  { name: 'phone', width: 360, height: 740 },
];

const PASSWORD = 'Balcon7Ardoise';

// Without Debian's Chromium a developer's run skips this file with a warning; CI installs it and never skips.
const noBrowser = !existsSync(CHROMIUM) && !process.env.CI;
if (noBrowser)
  console.warn(`${CHROMIUM} is missing: the browser documents journey is skipped (apt-get install chromium).`);

/** A real one-page PDF drawn by pdfkit, as the agency's software would produce one. */
function realPdf(text: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const doc = new PDFDocument({ size: 'A4', info: { Title: text } });
    const chunks: Buffer[] = [];
    doc.on('data', (c: Buffer) => chunks.push(c));
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
    doc.fontSize(18).text(text);
    doc.end();
  });
}

/** The filename* parameter a download of this PDF must carry (RFC 5987, UTF-8). */
const encodedName = (title: string) => `UTF-8''${encodeURIComponent(`${title}.pdf`)}`;

interface Published {
  space: 'account' | 'building' | 'council';
  /** The home page's link text for its space. */
  count: string;
  /** The list page's h1. */
  heading: string;
  path: string;
  category: string;
  /** The heading of its category's group on the list page. */
  group: string;
  title: string;
  content: Buffer;
}

describe.skipIf(noBrowser).each(WIDTHS)(
  'document spaces in a browser without JavaScript ($name, $width px)',
  (viewport) => {
    let t: TestApp;
    let base: string;
    let browser: Browser;
    let auditor: Auditor;
    let page: Page;
    let member: { id: number; reference: string };
    let owner: { id: number; reference: string };
    let memberEmail: string;
    let ownerEmail: string;
    let docs: Published[];
    let ids: number[];

    beforeAll(async () => {
      t = await buildTestApp('sqlite');
      await t.app.listen({ port: 0, host: '127.0.0.1' });
      const address = t.app.server.address();
      if (!address || typeof address === 'string') throw new Error('the app is not listening on a TCP port');
      base = `http://127.0.0.1:${address.port}`;

      const manager = await createManager(t.db, { name: 'ZIANE Aziza', email: 'aziza.ziane@agence.test' });
      const building = await createBuilding(t.db, { name: 'Résidence Les Tilleuls' });
      member = await seedAccount(t.db, t.config, {
        kind: 'coproprietaire',
        firstName: 'Anne',
        lastName: 'LEROY',
        buildingId: building.id,
        managerId: manager.id,
        councilRole: 'membre',
      });
      owner = await seedAccount(t.db, t.config, {
        kind: 'coproprietaire',
        firstName: 'Paul',
        lastName: 'DURAND',
        buildingId: building.id,
        managerId: manager.id,
      });
      memberEmail = (
        await createUser(t.db, {
          firstName: 'Anne',
          lastName: 'LEROY',
          email: 'anne.leroy@exemple.test',
          password: PASSWORD,
          accountIds: [member.id],
        })
      ).email;
      ownerEmail = (
        await createUser(t.db, {
          firstName: 'Paul',
          lastName: 'DURAND',
          email: 'paul.durand@exemple.test',
          password: PASSWORD,
          accountIds: [owner.id],
        })
      ).email;

      const space = (p: Omit<Published, 'content'>) => realPdf(p.title).then((content) => ({ ...p, content }));
      docs = await Promise.all([
        space({
          space: 'account',
          count: '1 document privé',
          heading: 'Mes documents',
          path: `/comptes/${member.id}/documents`,
          category: 'appels_de_fonds',
          group: 'Appels de fonds',
          title: 'Appel de fonds – 4e trimestre 2026',
        }),
        space({
          space: 'building',
          count: '1 document public',
          heading: 'Documents de l’immeuble',
          path: `/comptes/${member.id}/documents/immeuble`,
          category: 'fiche_synthetique',
          group: 'Fiche synthétique de la copropriété',
          title: 'Fiche synthétique 2026',
        }),
        space({
          space: 'council',
          count: '1 document du conseil',
          heading: 'Documents du conseil syndical',
          path: `/comptes/${member.id}/documents/conseil`,
          category: 'comptes_syndicat',
          group: 'Comptes du syndicat',
          title: 'Comptes du syndicat – exercice 2025',
        }),
      ]);
      const staff = createContext({
        db: t.db,
        config: t.config,
        agency: t.app.deps.agency,
        actor: { kind: 'staff', name: 'cli', ip: null },
      });
      ids = await publishDocuments(
        staff,
        t.app.deps.storage,
        docs.map((d) => ({
          target:
            d.space === 'account'
              ? { scope: 'account' as const, accountReference: member.reference }
              : d.space === 'building'
                ? { scope: 'building' as const, buildingCode: building.code, forTenants: false }
                : { scope: 'council' as const, buildingCode: building.code },
          category: d.category,
          title: d.title,
          date: '2026-11-02',
          file: { name: 'document.pdf', content: d.content },
        })),
      );

      [browser, auditor] = await Promise.all([launch({ javaScriptEnabled: false }), Auditor.start()]);
      page = browser.page;
      await page.setViewportSize({ width: viewport.width, height: viewport.height });
    });

    afterAll(async () => {
      await Promise.allSettled([browser?.close(), auditor?.close()]);
      await t?.close();
    });

    const heading = () => page.getByRole('heading', { level: 1 }).innerText();

    /** No script, no sideways scroll at this width, then axe (asserted at the end, every page listed). */
    async function check(name: string) {
      expect(await page.locator('script').count(), `${name}: a page of Palier holds a script`).toBe(0);
      const overflow = await horizontalOverflow(page);
      expect(
        overflow.scrollWidth,
        `${name} scrolls sideways at ${viewport.width} px: ${overflow.culprits.join(', ')}`,
      ).toBeLessThanOrEqual(viewport.width);
      await auditor.audit(page, name);
      await screenshot(page, `documents-${name}`);
    }

    async function signIn(email: string) {
      await page.goto(`${base}/`);
      expect(await heading()).toBe('Connexion à votre espace client');
      await page.getByLabel('Email').fill(email);
      await page.getByLabel('Mot de passe').fill(PASSWORD);
      await clickAndLoad(page, page.getByRole('button', { name: 'Se connecter' }));
    }

    /** Starts with this title, taken literally. */
    const startsWith = (title: string) => new RegExp(`^${title.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`);
    /** The table row header (a th scope=row) of this document on the list page. */
    const rowOf = (title: string) => page.getByRole('rowheader', { name: startsWith(title) });

    it('lets a council member open each space, download each PDF and see it no longer new; a plain co-owner has no council space', async () => {
      await signIn(memberEmail);
      expect(await heading()).toBe('Bienvenue, Anne LEROY');
      const home = await mainText(page);
      for (const d of docs) expect(home).toContain(d.count);
      await check('accueil-conseiller');

      for (const d of docs) {
        // From the home page, by the count's link (its accessible name also names the account).
        await page.goto(`${base}/accueil`);
        await clickAndLoad(page, page.getByRole('link', { name: new RegExp(`^${d.count}`) }));
        expect(new URL(page.url()).pathname).toBe(d.path);
        expect(await heading()).toBe(d.heading);
        // Under its category's heading, marked « Nouveau », with type and size.
        const row = rowOf(d.title);
        await expect.poll(() => row.count()).toBe(1);
        const group = page.locator('section.card', { has: row });
        expect(await group.getByRole('heading', { level: 2 }).innerText(), d.title).toBe(d.group);
        expect((await row.innerText()).replace(/[\u00a0\u202f]/g, ' ')).toMatch(/Nouveau\s*PDF, [\d,]+ ko/);
        expect(
          await page
            .getByRole('row', { name: startsWith(d.title) })
            .getByRole('cell')
            .innerText(),
        ).toBe('02/11/2026');
        // A council member has all three spaces as tabs, the current one marked.
        const tabs = page.getByRole('navigation', { name: 'Espaces de documents' });
        expect(await tabs.getByRole('link').allInnerTexts()).toEqual([
          'Documents privés',
          'Documents de l’immeuble',
          'Conseil syndical',
        ]);
        expect(await tabs.locator('a[aria-current="page"]').getAttribute('href')).toBe(d.path);
        await check(`liste-${d.space}`);

        // A real download: Chromium saves the very bytes published, under the document's title.
        const link = row.getByRole('link', { name: /^Télécharger/ });
        const href = await link.getAttribute('href');
        const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
        expect(download.suggestedFilename()).toBe(`${d.title}.pdf`);
        const saved = readFileSync((await download.path())!);
        expect(saved.subarray(0, 5).toString()).toBe('%PDF-');
        expect(saved.equals(d.content)).toBe(true);

        // Back on the list: opened by that download, so no longer new.
        await page.goto(`${base}${d.path}`);
        expect((await rowOf(d.title).innerText()).replace(/[\u00a0\u202f]/g, ' ')).not.toContain('Nouveau');

        // The same link with the page's cookies: the headers a browser relies on.
        const res = await page.request.get(`${base}${href}`);
        expect(res.status()).toBe(200);
        const headers = res.headers();
        expect(headers['content-type']).toBe('application/pdf');
        expect(headers['content-disposition']).toMatch(/^attachment;/);
        expect(headers['content-disposition']).toContain(`filename*=${encodedName(d.title)}`);
        expect(headers['x-content-type-options']).toBe('nosniff');
        expect((await res.body()).equals(d.content)).toBe(true);
      }
      // The counts stay what is there, read or not.
      await page.goto(`${base}/accueil`);
      const after = await mainText(page);
      for (const d of docs) expect(after).toContain(d.count);
      await clickAndLoad(page, page.getByRole('button', { name: 'Déconnexion' }));

      // A plain copropriétaire of the same building: private and public, no council.
      await signIn(ownerEmail);
      expect(await heading()).toBe('Bienvenue, Paul DURAND');
      const ownerHome = await mainText(page);
      expect(ownerHome).toContain('0 document privé');
      expect(ownerHome).toContain('1 document public');
      expect(ownerHome).not.toContain('du conseil –');
      expect(await page.locator(`a[href*="/documents/conseil"]`).count()).toBe(0);
      await check('accueil-coproprietaire');

      await clickAndLoad(page, page.getByRole('link', { name: /^1 document public/ }));
      expect(await heading()).toBe('Documents de l’immeuble');
      // Readings are each person's: what the council member opened is still new to this one.
      expect((await rowOf(docs[1]!.title).innerText()).replace(/[\u00a0\u202f]/g, ' ')).toMatch(/Nouveau\s*PDF/);
      expect(await page.getByRole('link', { name: 'Conseil syndical' }).count()).toBe(0);
      expect(await page.locator(`a[href*="/documents/conseil"]`).count()).toBe(0);
      await check('liste-building-coproprietaire');

      const unknown = await page.goto(`${base}/comptes/2000000000/documents/conseil`);
      expect(unknown?.status()).toBe(404);
      const unknownText = await mainText(page);
      expect(await heading()).toBe('Page introuvable');
      await check('introuvable');

      for (const path of [`/comptes/${owner.id}/documents/conseil`, `/comptes/${member.id}/documents/conseil`]) {
        const res = await page.goto(`${base}${path}`);
        expect(res?.status(), path).toBe(404);
        expect(await mainText(page), path).toBe(unknownText);
        expect(await page.content(), path).not.toContain(docs[2]!.title);
      }
      // Nor does the council document itself open through the plain co-owner's account.
      const councilDoc = await page.request.get(`${base}/comptes/${owner.id}/documents/${ids[2]}`);
      expect(councilDoc.status()).toBe(404);
      expect((await councilDoc.body()).subarray(0, 5).toString()).not.toBe('%PDF-');

      for (const r of auditor.results) {
        console.log(
          `axe ${r.violations.length === 0 ? 'OK ' : 'KO '} ${r.name} (${r.width} px)${r.violations.length ? `: ${r.violations.map((v) => v.id).join(', ')}` : ''}`,
        );
      }
      expect(
        auditor.results.filter((r) => r.violations.length > 0),
        formatViolations(auditor.results),
      ).toEqual([]);
    });
  },
);
