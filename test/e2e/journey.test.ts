import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { buildTestApp, type TestApp } from '../helpers/app.ts';
import { addLedger, createBuilding, createManager, createUser, seedAccount } from '../helpers/factories.ts';
import { linkIn } from '../helpers/smtp.ts';
import { setAgency } from '../../src/core/agency/agency.repository.ts';
import {
  Auditor,
  CHROMIUM,
  clickAndLoad,
  formatViolations,
  horizontalOverflow,
  launch,
  mainText,
  screenshot,
  tabThrough,
  type Browser,
} from './browser.ts';

/*
 * Steps 2–8 of the agency's guide, walked in a real Chromium as a new client would: by labels
 * and roles, with JavaScript disabled (Palier has no script and must not need one), over real
 * HTTP and real SMTP. Every page of the journey goes through axe-core (WCAG 2.1 A and AA);
 * login, home and statement are also checked at 360 px for horizontal scrolling.
 * Screenshots land in .tmp/screens/ for a human look.
 */

const PHONE = { width: 360, height: 740 };
const DESKTOP = { width: 1280, height: 800 };

const CLIENT_EMAIL = 'paul.durand@exemple.test';
const PERSONAL_PASSWORD = 'Balcon7Ardoise';
const NEW_PASSWORD = 'Glycine9Lucarne';

// Without Debian's Chromium a developer's run skips this file with a warning; CI installs it and never skips.
const noBrowser = !existsSync(CHROMIUM) && !process.env.CI;
if (noBrowser) console.warn(`${CHROMIUM} is missing: the browser journey is skipped (apt-get install chromium).`);

describe.skipIf(noBrowser)('a new client’s journey in a browser without JavaScript', () => {
  let t: TestApp;
  let base: string;
  let browser: Browser;
  let auditor: Auditor;
  let page: Page;
  let copro: Awaited<ReturnType<typeof seedAccount>>;
  let tenant: Awaited<ReturnType<typeof seedAccount>>;

  beforeAll(async () => {
    t = await buildTestApp('sqlite');
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const address = t.app.server.address();
    if (!address || typeof address === 'string') throw new Error('the app is not listening on a TCP port');
    base = `http://127.0.0.1:${address.port}`;

    await setAgency(t.db, {
      name: 'Cabinet Heurtier',
      tagline: 'depuis 1904',
      address: '4 place Grenette, 38000 Grenoble',
      phone: '04 76 46 12 34',
      email: 'contact@cabinet-heurtier.test',
      website: 'https://www.cabinet-heurtier.test',
      iban: 'FR7630006000011234567890189',
      bic: 'AGRIFRPP881',
    });
    const manager = await createManager(t.db, { name: 'ZIANE Aziza', email: 'aziza.ziane@agence.test' });
    const building = await createBuilding(t.db, { name: 'Résidence Les Tilleuls' });
    // A copropriétaire pays the syndicat of the building, on its own account (not the agency's).
    await t.db
      .updateTable('buildings')
      .set({ iban: 'FR1420041010050500013M02606', bic: 'PSSTFRPPGRE' })
      .where('id', '=', building.id)
      .execute();
    copro = await seedAccount(t.db, t.config, {
      kind: 'coproprietaire',
      reference: 'C0006421',
      accessCode: 'K7PM-2XQR-9D',
      firstName: 'Paul',
      lastName: 'DURAND',
      email: CLIENT_EMAIL,
      buildingId: building.id,
      managerId: manager.id,
      lots: [
        { number: '0006', type: 'Appartement', description: '4 pièces', shares: 123 },
        { number: '0106', type: 'Cave', description: 'Cave', shares: 4 },
      ],
    });
    // Debits 2 897,50 €, credits 1 519,30 €: the guide's balance, -1 378,20 €.
    await addLedger(t.db, copro.id, [
      { date: '2022-01-01', label: 'Appel de fonds 1er trimestre 2022', debit: 95_000 },
      { date: '2022-01-20', label: 'Règlement par chèque', credit: 95_000 },
      { date: '2022-04-01', label: 'Appel de fonds 2e trimestre 2022', debit: 95_000 },
      { date: '2022-04-01', label: 'Fonds de travaux 2e trimestre 2022', debit: 4_750 },
      { date: '2022-07-01', label: 'Appel de fonds 3e trimestre 2022', debit: 95_000 },
      { date: '2022-07-15', label: 'Virement reçu', credit: 56_930 },
    ]);
    // The council of the same building, and a tenant account the client will attach later.
    const president = await seedAccount(t.db, t.config, {
      kind: 'coproprietaire',
      firstName: 'Anne',
      lastName: 'LEROY',
      buildingId: building.id,
      managerId: manager.id,
      councilRole: 'president',
    });
    await createUser(t.db, { firstName: 'Anne', lastName: 'LEROY', accountIds: [president.id] });
    tenant = await seedAccount(t.db, t.config, {
      kind: 'locataire',
      reference: 'L0031877',
      accessCode: 'WB4H-7NZC-3T',
      firstName: 'Paul',
      lastName: 'DURAND',
      email: CLIENT_EMAIL,
      managerId: manager.id,
      lots: [{ number: '0012', type: 'Appartement', description: '2 pièces' }],
    });
    await addLedger(t.db, tenant.id, [
      { date: '2022-06-01', label: 'Loyer et charges juin 2022', debit: 68_000 },
      { date: '2022-06-05', label: 'Prélèvement', credit: 68_000 },
    ]);

    [browser, auditor] = await Promise.all([launch({ javaScriptEnabled: false }), Auditor.start()]);
    page = browser.page;
  });

  afterAll(async () => {
    await Promise.allSettled([browser?.close(), auditor?.close()]);
    await t?.close();
  });

  /** axe on the current page (violations are gathered and asserted at the end, all pages listed). */
  async function check(name: string, opts: { phone?: boolean } = {}) {
    // No script at all on any page: the app works without JavaScript by construction.
    expect(await page.locator('script').count(), `${name}: a page of Palier holds a script`).toBe(0);
    await auditor.audit(page, name);
    await screenshot(page, name);
    // Touch targets: every button is at least 44 px tall.
    const small = await page.evaluate(() =>
      Array.from(document.querySelectorAll<HTMLElement>('button, .button, input[type="submit"]'))
        .map((b) => ({ text: b.innerText.trim().replace(/\s+/g, ' '), height: b.getBoundingClientRect().height }))
        .filter((b) => b.height > 0 && b.height < 44),
    );
    expect(small, `${name}: buttons under 44 px`).toEqual([]);
    if (opts.phone) {
      await page.setViewportSize(PHONE);
      const overflow = await horizontalOverflow(page);
      expect(
        overflow.scrollWidth,
        `${name} scrolls sideways at 360 px: ${overflow.culprits.join(', ')}`,
      ).toBeLessThanOrEqual(PHONE.width);
      await auditor.audit(page, `${name} (phone)`);
      await screenshot(page, name);
      await page.setViewportSize(DESKTOP);
    }
  }

  /** Every keyboard stop shows a 3 px ring, the skip link first. */
  async function checkFocus(name: string) {
    const stops = await tabThrough(page);
    expect(stops[0]?.element, `${name}: the first Tab stop`).toBe('a « Aller au contenu »');
    const bad = stops.filter((s) => !s.visible || s.outline !== '3px solid');
    expect(bad, `${name}: focus not visible on ${JSON.stringify(bad)}`).toEqual([]);
    return stops;
  }

  const heading = () => page.getByRole('heading', { level: 1 }).innerText();
  /** Links in mails point at the configured BASE_URL; the browser goes to the listening app instead. */
  const local = (link: string) => {
    const u = new URL(link);
    return `${base}${u.pathname}${u.search}`;
  };

  it('creates the space from the paper letter, reads the balance and statement, attaches an account, and resets the password', async () => {
    // Step 2 — the login page.
    await page.goto(`${base}/`);
    expect(await heading()).toBe('Connexion à votre espace client');
    await check('connexion', { phone: true });
    expect((await checkFocus('connexion')).length).toBeGreaterThanOrEqual(6);

    // Step 3 — Créez votre espace, 1/2: a wrong code and an unknown reference get the same answer.
    await clickAndLoad(page, page.getByRole('link', { name: 'Créez votre espace' }));
    expect(await heading()).toBe('Création de mon espace (1/2)');
    await check('creation-etape-1');

    await page.getByLabel('Identifiant').fill(copro.reference);
    await page.getByLabel('Mot de passe').fill('AAAA-BBBB-CC');
    await clickAndLoad(page, page.getByRole('button', { name: 'Étape suivante' }));
    expect(await heading()).toBe('Création de mon espace (1/2)');
    const wrongCode = await page.locator('.error-summary').innerText();
    expect(wrongCode.length).toBeGreaterThan(10);
    await check('creation-etape-1-erreur');

    await page.getByLabel('Identifiant').fill('C9999999');
    await page.getByLabel('Mot de passe').fill(copro.accessCode);
    await clickAndLoad(page, page.getByRole('button', { name: 'Étape suivante' }));
    expect(await page.locator('.error-summary').innerText()).toBe(wrongCode);

    // The printed code, typed the way people do: lower case, spaces instead of dashes.
    await page.getByLabel('Identifiant').fill(copro.reference);
    await page.getByLabel('Mot de passe').fill(copro.accessCode.toLowerCase().replace(/-/g, ' '));
    await clickAndLoad(page, page.getByRole('button', { name: 'Étape suivante' }));

    // 2/2: prefilled from the agency's data; the client chooses a personal password.
    expect(await heading()).toBe('Création de mon espace (2/2)');
    expect(await page.getByLabel(/^Nom/).inputValue()).toBe('DURAND');
    expect(await page.getByLabel(/^Prénom/).inputValue()).toBe('Paul');
    expect(await page.getByLabel(/^Email/).inputValue()).toBe(CLIENT_EMAIL);
    expect(await page.getByLabel(/^Code postal/).inputValue()).toBe('38000');
    expect(await page.getByLabel(/^Ville/).inputValue()).toBe('GRENOBLE');
    await check('creation-etape-2');

    // A confirmation that differs: the form says so at the top and beside the field.
    await page.getByLabel(/^Mot de passe/).fill(PERSONAL_PASSWORD);
    await page.getByLabel(/^Confirmer le mot de passe/).fill(`${PERSONAL_PASSWORD}x`);
    await clickAndLoad(page, page.getByRole('button', { name: 'Valider' }));
    expect(await heading()).toBe('Création de mon espace (2/2)');
    expect(await page.getByRole('alert').innerText()).toContain('Confirmer le mot de passe');
    expect(await page.getByLabel(/^Confirmer le mot de passe/).getAttribute('aria-invalid')).toBe('true');
    expect(await page.getByLabel(/^Nom/).inputValue()).toBe('DURAND');
    await check('creation-etape-2-erreur', { phone: true });

    await page.getByLabel(/^Mot de passe/).fill(PERSONAL_PASSWORD);
    await page.getByLabel(/^Confirmer le mot de passe/).fill(PERSONAL_PASSWORD);
    await clickAndLoad(page, page.getByRole('button', { name: 'Valider' }));

    // Step 5 — logged in, on the home page, with the guide's balance.
    expect((await page.getByRole('status').innerText()).replace(/[\u00a0\u202f]/g, ' ')).toContain(
      'Votre compte est désormais créé !',
    );
    expect(await heading()).toBe('Bienvenue, Paul DURAND');
    let home = await mainText(page);
    expect(home).toContain('4 pièces (Lot 0006) - Appartement');
    expect(home).toContain('Cave (Lot 0106) - Cave');
    expect(home).toContain(`Copropriétaire N° ${copro.reference}`);
    expect(home).toContain('-1 378,20 €');
    expect(home).toContain('Solde débiteur');
    for (const name of ['Accueil', 'Profil', 'Contact']) {
      expect(
        await page.getByRole('navigation', { name: 'Navigation principale' }).getByRole('link', { name }).isVisible(),
      ).toBe(true);
    }
    await check('accueil', { phone: true });
    const homeStops = await checkFocus('accueil');
    expect(homeStops.map((s) => s.element)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^a « Détail/), expect.stringMatching(/^a « Payer/)]),
    );
    // The ring on the dark balance box, for a human look at the screenshot.
    await page.getByRole('link', { name: /^Payer/ }).focus();
    await screenshot(page, 'accueil-focus-payer');
    await t.smtp.waitFor(CLIENT_EMAIL, (m) => m.text.includes('/confirmer-email'));

    // Step 6 — Détail: the statement, then filtered on the second quarter.
    await clickAndLoad(page, page.getByRole('link', { name: /^Détail/ }));
    expect(await heading()).toBe('Extrait de compte');
    const table = page.getByRole('table');
    expect(await table.isVisible()).toBe(true);
    expect(await table.locator('tbody tr').count()).toBe(6);
    const closing = (await table.locator('tfoot').innerText()).replace(/[\u00a0\u202f]/g, ' ');
    expect(closing).toContain('-1 378,20 €');
    await check('extrait', { phone: true });

    await page.getByLabel('Du', { exact: true }).fill('2022-04-01');
    await page.getByLabel('Au', { exact: true }).fill('2022-06-30');
    await clickAndLoad(page, page.getByRole('button', { name: 'Afficher' }));
    expect(new URL(page.url()).search).toBe('?du=2022-04-01&au=2022-06-30');
    const quarter = page.getByRole('table');
    expect(await quarter.locator('caption').innerText()).toContain('du 01/04/2022 au 30/06/2022');
    const labels = await quarter.locator('tbody tr').allInnerTexts();
    expect(labels.filter((l) => l.includes('Appel de fonds'))).toHaveLength(1);
    expect(labels.join('\n')).toContain('Fonds de travaux 2e trimestre 2022');
    expect(labels.join('\n')).not.toContain('3e trimestre');
    await check('extrait-filtre');

    // Printing shows the table, not the navigation or the filter.
    await page.emulateMedia({ media: 'print' });
    expect(await page.getByRole('navigation', { name: 'Navigation principale' }).isVisible()).toBe(false);
    expect(await page.locator('form.filters').isVisible()).toBe(false);
    expect(await page.getByRole('table').isVisible()).toBe(true);
    await screenshot(page, 'extrait-impression');
    await page.emulateMedia({ media: 'screen' });

    // Payer, from the home page.
    await clickAndLoad(
      page,
      page.getByRole('navigation', { name: 'Navigation principale' }).getByRole('link', { name: 'Accueil' }),
    );
    await clickAndLoad(page, page.getByRole('link', { name: /^Payer/ }));
    expect(await heading()).toBe('Payer');
    const pay = await mainText(page);
    expect(pay).toContain(`Référence à indiquer : ${copro.reference}`);
    expect(pay).toContain('Bénéficiaire\nSyndicat des copropriétaires Résidence Les Tilleuls');
    expect(pay).toContain('FR14 2004 1010 0505 0001 3M02 606');
    expect(await page.getByRole('img', { name: /^Code QR de virement/ }).isVisible()).toBe(true);
    await check('payer');

    // The account's other pages and the header's, as a curious client would open them.
    const nav = page.getByRole('navigation', { name: 'Navigation principale' });
    const tour: [RegExp | string, string, string][] = [
      [/^Mes coordonnées/, 'Mes coordonnées', 'coordonnees'],
      [/^Membres du conseil syndical/, 'Membres du conseil syndical', 'conseil-syndical'],
      [/^Contact gestionnaires/, 'Contacter votre gestionnaire', 'contact-gestionnaire'],
    ];
    for (const [link, title, name] of tour) {
      await clickAndLoad(page, nav.getByRole('link', { name: 'Accueil' }));
      await clickAndLoad(page, page.getByRole('link', { name: link }));
      expect(await heading()).toBe(title);
      await check(name);
    }
    expect(await mainText(page)).toContain('ZIANE Aziza');
    await clickAndLoad(page, nav.getByRole('link', { name: 'Profil' }));
    expect(await heading()).toBe('Mon profil');
    await check('profil', { phone: true });
    await clickAndLoad(page, nav.getByRole('link', { name: 'Contact' }));
    expect(await heading()).toBe('Contact');
    await check('contact');

    // Step 7 — Ajouter un compte: the tenant account, then its tab.
    await clickAndLoad(
      page,
      page.getByRole('navigation', { name: 'Navigation principale' }).getByRole('link', { name: 'Accueil' }),
    );
    await clickAndLoad(page, page.getByRole('link', { name: 'Ajouter un compte' }).first());
    expect(await heading()).toBe('Ajouter un compte');
    await check('ajouter-un-compte');
    await page.getByLabel('Identifiant').fill(tenant.reference);
    await page.getByLabel('Mot de passe').fill(tenant.accessCode);
    await clickAndLoad(page, page.getByRole('button', { name: 'Ajouter ce compte' }));
    expect(await page.getByRole('status').innerText()).toContain('ajouté à votre espace');
    const tabs = page.getByRole('navigation', { name: 'Vos comptes par type' });
    expect(await tabs.getByRole('link').allInnerTexts()).toEqual(['Comptes copropriétaires', 'Comptes locataires']);
    await check('accueil-deux-comptes');
    // The tabs are plain links: each shows one kind of account and is marked as the current one.
    await clickAndLoad(page, tabs.getByRole('link', { name: 'Comptes copropriétaires' }));
    expect(await tabs.getByRole('link', { name: 'Comptes copropriétaires' }).getAttribute('aria-current')).toBe('page');
    expect(await mainText(page)).toContain('4 pièces (Lot 0006) - Appartement');
    expect(await mainText(page)).not.toContain(tenant.reference);
    await clickAndLoad(page, tabs.getByRole('link', { name: 'Comptes locataires' }));
    expect(await tabs.getByRole('link', { name: 'Comptes locataires' }).getAttribute('aria-current')).toBe('page');
    expect(await tabs.getByRole('link', { name: 'Comptes copropriétaires' }).getAttribute('aria-current')).toBeNull();
    home = await mainText(page);
    expect(home).toContain(`Locataire N° ${tenant.reference}`);
    expect(home).toContain('2 pièces (Lot 0012) - Appartement');
    expect(home).toContain('Solde nul');
    expect(home).not.toContain('Lot 0006');
    await check('accueil-locataire');

    // Step 4 — Déconnexion, then Se connecter with the personal email and password.
    await clickAndLoad(page, page.getByRole('button', { name: 'Déconnexion' }));
    expect(await heading()).toBe('Connexion à votre espace client');
    expect(await page.getByRole('status').innerText()).toContain('Vous êtes déconnecté');
    await check('deconnexion');
    await page.getByLabel('Email').fill(CLIENT_EMAIL);
    await page.getByLabel('Mot de passe').fill(PERSONAL_PASSWORD);
    await clickAndLoad(page, page.getByRole('button', { name: 'Se connecter' }));
    expect(await heading()).toBe('Bienvenue, Paul DURAND');
    await clickAndLoad(page, page.getByRole('button', { name: 'Déconnexion' }));

    // Step 8 — Mot de passe oublié ? → the mail → a new password → log in with it.
    await clickAndLoad(page, page.getByRole('link', { name: 'Mot de passe oublié ?' }));
    expect(await heading()).toBe('Mot de passe oublié');
    await check('mot-de-passe-oublie');
    await page.getByLabel('Email').fill(CLIENT_EMAIL);
    await clickAndLoad(page, page.getByRole('button', { name: 'Valider' }));
    expect(await mainText(page)).toContain('un email vient de lui être envoyé');
    await check('mot-de-passe-oublie-envoye');

    const mail = await t.smtp.waitFor(CLIENT_EMAIL, (m) => m.text.includes('/nouveau-mot-de-passe'));
    await page.goto(local(linkIn(mail, '/nouveau-mot-de-passe')));
    expect(await heading()).toBe('Choisir un nouveau mot de passe');
    await check('nouveau-mot-de-passe');
    await page.getByLabel(/^Nouveau mot de passe/).fill(NEW_PASSWORD);
    await page.getByLabel(/^Confirmer le mot de passe/).fill(NEW_PASSWORD);
    await clickAndLoad(page, page.getByRole('button', { name: 'Valider' }));
    expect(await page.getByRole('status').innerText()).toContain('Votre mot de passe a été modifié');

    // The old password no longer opens the space; the new one does.
    await page.getByLabel('Email').fill(CLIENT_EMAIL);
    await page.getByLabel('Mot de passe').fill(PERSONAL_PASSWORD);
    await clickAndLoad(page, page.getByRole('button', { name: 'Se connecter' }));
    expect(await mainText(page)).toContain('Email ou mot de passe incorrect.');
    await check('connexion-erreur');
    await page.getByLabel('Mot de passe').fill(NEW_PASSWORD);
    await clickAndLoad(page, page.getByRole('button', { name: 'Se connecter' }));
    expect(await heading()).toBe('Bienvenue, Paul DURAND');
    expect(await mainText(page)).toContain('-1 378,20 €');

    // Every page of the journey, on desktop and on a phone, passes axe.
    for (const r of auditor.results) {
      console.log(
        `axe ${r.violations.length === 0 ? 'OK ' : 'KO '} ${r.name} (${r.width} px)${r.violations.length ? `: ${r.violations.map((v) => v.id).join(', ')}` : ''}`,
      );
    }
    const failing = auditor.results.filter((r) => r.violations.length > 0);
    expect(
      failing.map((r) => r.name),
      `axe-core (WCAG 2.1 A/AA) found violations:\n\n${formatViolations(failing)}`,
    ).toEqual([]);
  }, 90_000);
});
