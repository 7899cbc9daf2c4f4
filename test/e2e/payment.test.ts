import { existsSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { buildTestApp, type TestApp } from '../helpers/app.ts';
import { addLedger, createBuilding, createManager, createUser, seedAccount } from '../helpers/factories.ts';
import { decodeQrDataUrl } from '../helpers/qr.ts';
import { setAgency } from '../../src/core/agency/agency.repository.ts';
import { epcPayload } from '../../src/core/payments/epc-qr.ts';
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
 * « Payer » in a real Chromium without JavaScript: by transfer (the syndicat's bank details and
 * an EPC QR code a banking app reads back), and by card through a local stand-in for Stripe —
 * its API answers the checkout session creation, its checkout page has « Payer » (which sends
 * the signed checkout.session.completed notification to Palier, then the browser back to the
 * success URL) and « Annuler » (back to the cancel URL). Palier's pages go through axe-core.
 */

const PHONE = { width: 360, height: 740 };
const DESKTOP = { width: 1280, height: 800 };
const WEBHOOK_SECRET = 'whsec_test_palier_e2e';
const SYNDICATE_IBAN = 'FR1420041010050500013M02606';
const SYNDICATE_BIC = 'PSSTFRPPGRE';

const noBrowser = !existsSync(CHROMIUM) && !process.env.CI;
if (noBrowser) console.warn(`${CHROMIUM} is missing: the browser payment test is skipped (apt-get install chromium).`);

/** A free TCP port on 127.0.0.1, so the app's BASE_URL (and the return URLs it gives Stripe) is where it listens. */
async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

function bodyOf(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => resolve(raw));
    req.on('error', reject);
  });
}

const escapeHtml = (s: string) =>
  s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

interface Session {
  id: string;
  amount: number;
  reference: string;
  successUrl: string;
  cancelUrl: string;
}

/** The provider's stand-in: Stripe's API for checkout sessions, and a bare hosted checkout page. */
interface Provider {
  url: string;
  sessions: Session[];
  /** What Palier answered to each notification the stand-in sent. */
  deliveries: number[];
  close(): Promise<void>;
}

async function startProvider(appBase: () => string): Promise<Provider> {
  const signer = new Stripe('sk_test_signer');
  const sessions: Session[] = [];
  const deliveries: number[] = [];
  let n = 0;
  const server: Server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://stand-in');
      const raw = await bodyOf(req);
      if (req.method === 'POST' && url.pathname === '/v1/checkout/sessions') {
        const b = new URLSearchParams(raw);
        const id = `cs_test_e2e_${++n}`;
        sessions.push({
          id,
          amount: Number(b.get('line_items[0][price_data][unit_amount]')),
          reference: b.get('metadata[reference]') ?? '',
          successUrl: b.get('success_url') ?? '',
          cancelUrl: b.get('cancel_url') ?? '',
        });
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ id, object: 'checkout.session', url: `${providerUrl}/checkout/${id}` }));
        return;
      }
      const m = /^\/checkout\/(cs_test_e2e_\d+)(\/payer)?$/.exec(url.pathname);
      const session = m ? sessions.find((s) => s.id === m[1]) : undefined;
      if (!session) {
        res.statusCode = 404;
        res.end('not found');
        return;
      }
      if (req.method === 'GET' && !m![2]) {
        const euros = (session.amount / 100).toFixed(2).replace('.', ',');
        res.setHeader('content-type', 'text/html; charset=utf-8');
        res.end(
          `<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>Stand-in checkout</title></head><body>` +
            `<h1>Paiement de ${euros} €</h1>` +
            `<form method="post" action="/checkout/${session.id}/payer"><button type="submit">Payer</button></form>` +
            `<p><a href="${escapeHtml(session.cancelUrl)}">Annuler</a></p></body></html>`,
        );
        return;
      }
      if (req.method === 'POST' && m![2]) {
        // Stripe notifies Palier's server, then sends the browser to the success URL.
        const payload = JSON.stringify({
          id: `evt_${session.id}`,
          object: 'event',
          api_version: '2025-01-01',
          type: 'checkout.session.completed',
          data: {
            object: {
              id: session.id,
              object: 'checkout.session',
              amount_total: session.amount,
              currency: 'eur',
              payment_status: 'paid',
              status: 'complete',
              client_reference_id: session.reference,
              metadata: { reference: session.reference },
            },
          },
        });
        const answer = await fetch(`${appBase()}/paiements/stripe/webhook`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'stripe-signature': signer.webhooks.generateTestHeaderString({ payload, secret: WEBHOOK_SECRET }),
          },
          body: payload,
        });
        deliveries.push(answer.status);
        res.statusCode = 303;
        res.setHeader('location', session.successUrl);
        res.end();
        return;
      }
      res.statusCode = 405;
      res.end();
    })().catch((err: unknown) => {
      res.statusCode = 500;
      res.end(String(err));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const providerUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: providerUrl,
    sessions,
    deliveries,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe.skipIf(noBrowser)('« Payer » in a browser without JavaScript', () => {
  let t: TestApp;
  let base: string;
  let provider: Provider;
  let browser: Browser;
  let auditor: Auditor;
  let page: Page;
  let copro: Awaited<ReturnType<typeof seedAccount>>;

  beforeAll(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    provider = await startProvider(() => base);
    t = await buildTestApp('sqlite', {
      baseUrl: base,
      stripe: { secretKey: 'sk_test_palier', webhookSecret: WEBHOOK_SECRET, apiBase: provider.url },
    });
    await t.app.listen({ port, host: '127.0.0.1' });

    await setAgency(t.db, { name: 'Cabinet Heurtier', address: '4 place Grenette, 38000 Grenoble' });
    const manager = await createManager(t.db, { name: 'ZIANE Aziza', email: 'aziza.ziane@agence.test' });
    const building = await createBuilding(t.db, { name: 'Résidence Les Tilleuls' });
    // A copropriétaire pays the syndicat of the building, on its own account.
    await t.db
      .updateTable('buildings')
      .set({ iban: SYNDICATE_IBAN, bic: SYNDICATE_BIC })
      .where('id', '=', building.id)
      .execute();
    copro = await seedAccount(t.db, t.config, {
      kind: 'coproprietaire',
      reference: 'C0006421',
      buildingId: building.id,
      managerId: manager.id,
    });
    await addLedger(t.db, copro.id, [
      { date: '2022-04-01', label: 'Appel de fonds 2e trimestre 2022', debit: 95_000 },
      { date: '2022-04-01', label: 'Fonds de travaux 2e trimestre 2022', debit: 4_750 },
    ]);
    const user = await createUser(t.db, { firstName: 'Paul', lastName: 'DURAND', accountIds: [copro.id] });

    [browser, auditor] = await Promise.all([launch({ javaScriptEnabled: false }), Auditor.start()]);
    page = browser.page;

    await page.goto(`${base}/`);
    await page.getByLabel('Email').fill(user.email);
    await page.getByLabel('Mot de passe').fill(user.password);
    await clickAndLoad(page, page.getByRole('button', { name: 'Se connecter' }));
  });

  afterAll(async () => {
    await Promise.allSettled([browser?.close(), auditor?.close()]);
    await t?.close();
    await provider?.close();
  });

  /** axe on one of Palier's pages (never the stand-in's), and at 360 px without sideways scrolling when asked. */
  async function check(name: string, opts: { phone?: boolean } = {}) {
    expect(await page.locator('script').count(), `${name}: a page of Palier holds a script`).toBe(0);
    await auditor.audit(page, name);
    await screenshot(page, `paiement-${name}`);
    if (opts.phone) {
      await page.setViewportSize(PHONE);
      const overflow = await horizontalOverflow(page);
      expect(
        overflow.scrollWidth,
        `${name} scrolls sideways at 360 px: ${overflow.culprits.join(', ')}`,
      ).toBeLessThanOrEqual(PHONE.width);
      await auditor.audit(page, `${name} (phone)`);
      await screenshot(page, `paiement-${name}`);
      await page.setViewportSize(DESKTOP);
    }
  }

  const heading = () => page.getByRole('heading', { level: 1 }).innerText();

  async function openPayer() {
    await page.goto(`${base}/accueil`);
    await clickAndLoad(page, page.getByRole('link', { name: /^Payer/ }));
    expect(await heading()).toBe('Payer');
  }

  it('shows the syndicat’s bank details and a QR code a banking app reads as the EPC transfer', async () => {
    await openPayer();
    const text = await mainText(page);
    expect(text).toContain('Bénéficiaire\nSyndicat des copropriétaires Résidence Les Tilleuls');
    expect(text).toContain('IBAN\nFR14 2004 1010 0505 0001 3M02 606');
    expect(text).toContain(`BIC\n${SYNDICATE_BIC}`);
    expect(text).toContain('Montant\n997,50 €');
    expect(text).toContain(`Référence à indiquer : ${copro.reference}`);

    const img = page.getByRole('img', { name: /^Code QR de virement/ });
    expect(await img.isVisible()).toBe(true);
    expect((await img.getAttribute('alt'))!.replace(/[\u00a0\u202f]/g, ' ')).toBe(
      `Code QR de virement : 997,50 € à Syndicat des copropriétaires Résidence Les Tilleuls, référence ${copro.reference}`,
    );
    const src = await img.getAttribute('src');
    expect(src).toMatch(/^data:image\/png;base64,/);
    // Read back as a banking app's camera would: the EPC069-12 transfer, to the syndicat's account.
    const decoded = decodeQrDataUrl(src!);
    const expected = [
      'BCD',
      '002',
      '1',
      'SCT',
      SYNDICATE_BIC,
      'Syndicat des copropriétaires Résidence Les Tilleuls',
      SYNDICATE_IBAN,
      'EUR997.50',
      '',
      '',
      copro.reference,
    ].join('\n');
    expect(decoded).toBe(expected);
    expect(
      epcPayload({
        bic: SYNDICATE_BIC,
        name: 'Syndicat des copropriétaires Résidence Les Tilleuls',
        iban: SYNDICATE_IBAN,
        amountCents: 99_750,
        remittance: copro.reference,
      }),
    ).toBe(expected);

    // A partial payment: the QR code follows the amount chosen.
    await page.getByLabel(/^Montant à payer/).fill('500');
    await clickAndLoad(page, page.getByRole('button', { name: 'Modifier le montant' }));
    const partial = decodeQrDataUrl(
      (await page.getByRole('img', { name: /^Code QR de virement/ }).getAttribute('src'))!,
    );
    expect(partial?.split('\n')[7]).toBe('EUR500.00');

    await openPayer();
    await check('payer', { phone: true });
  }, 60_000);

  it('pays by card on the provider’s page, comes back to « Paiement reçu », and shows it on the statement', async () => {
    await openPayer();
    // The form's answer redirects to the checkout page: the page's CSP lets the browser follow it.
    const csp = (await page.goto(page.url()))!.headers()['content-security-policy'];
    expect(csp).toContain(`form-action 'self' https://checkout.stripe.com ${provider.url};`);
    await clickAndLoad(page, page.getByRole('button', { name: /^Payer 997,50 € par carte/ }));

    // On the provider's checkout page, for the amount and with Palier's return addresses.
    expect(page.url()).toMatch(new RegExp(`^${provider.url}/checkout/cs_test_e2e_\\d+$`));
    const session = provider.sessions.at(-1)!;
    expect(session.amount).toBe(99_750);
    expect(session.reference).toMatch(/^PL[A-Z2-9]{8}$/);
    expect(session.successUrl).toBe(`${base}/comptes/${copro.id}/payer/carte/${session.reference}`);
    expect(session.cancelUrl).toBe(`${base}/comptes/${copro.id}/payer/carte/${session.reference}?abandon=1`);
    expect(await page.getByRole('heading', { level: 1 }).innerText()).toBe('Paiement de 997,50 €');

    await clickAndLoad(page, page.getByRole('button', { name: 'Payer' }));
    expect(provider.deliveries.at(-1)).toBe(200);
    expect(page.url()).toBe(session.successUrl);
    expect(await heading()).toBe('Paiement reçu');
    const result = await mainText(page);
    expect(result).toContain('Votre paiement est confirmé.');
    expect(result).toContain('Montant\n997,50 €');
    expect(result).toContain(`Référence du paiement\n${session.reference}`);
    await check('carte-recu');

    await clickAndLoad(page, page.getByRole('link', { name: 'Voir le détail de votre compte' }));
    expect(await heading()).toBe('Extrait de compte');
    const statement = await mainText(page);
    expect(statement).toMatch(
      new RegExp(
        `\\d{2}/\\d{2}/\\d{4} – Paiement en ligne \\(en cours de rapprochement\\) – 997,50 € \\(référence ${session.reference}\\)`,
      ),
    );
    // Beside the table, never one of its lines: the balance is still the ledger's.
    expect(await page.getByRole('table').locator('tbody').innerText()).not.toContain('Paiement en ligne');
    await check('extrait-paiement-en-ligne');

    const row = await t.db
      .selectFrom('payments')
      .selectAll()
      .where('reference', '=', session.reference)
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({ status: 'paid', amount_cents: 99_750, provider_session_id: session.id });
  }, 60_000);

  it('comes back from the provider’s « Annuler » to « Paiement abandonné »', async () => {
    await openPayer();
    await page.getByLabel(/^Montant à payer/).fill('120,50');
    await clickAndLoad(page, page.getByRole('button', { name: 'Modifier le montant' }));
    await clickAndLoad(page, page.getByRole('button', { name: /^Payer 120,50 € par carte/ }));
    const session = provider.sessions.at(-1)!;
    expect(session.amount).toBe(12_050);
    expect(page.url()).toBe(`${provider.url}/checkout/${session.id}`);

    await clickAndLoad(page, page.getByRole('link', { name: 'Annuler' }));
    // The cancel URL marks it abandoned, then shows the result at its own address.
    expect(page.url()).toBe(session.successUrl);
    expect(await heading()).toBe('Paiement abandonné');
    expect(await mainText(page)).toContain('Aucun montant n’a été débité.');
    expect(await page.getByRole('link', { name: 'Choisir un autre moyen de paiement' }).isVisible()).toBe(true);
    await check('carte-abandon');

    const row = await t.db
      .selectFrom('payments')
      .select('status')
      .where('reference', '=', session.reference)
      .executeTakeFirstOrThrow();
    expect(row.status).toBe('abandoned');
  }, 60_000);

  it('leaves no axe-core violation on the pages of Palier visited', () => {
    for (const r of auditor.results) {
      console.log(
        `axe ${r.violations.length === 0 ? 'OK ' : 'KO '} ${r.name} (${r.width} px)${r.violations.length ? `: ${r.violations.map((v) => v.id).join(', ')}` : ''}`,
      );
    }
    expect(auditor.results.map((r) => r.name)).toEqual([
      'payer',
      'payer (phone)',
      'carte-recu',
      'extrait-paiement-en-ligne',
      'carte-abandon',
    ]);
    const failing = auditor.results.filter((r) => r.violations.length > 0);
    expect(
      failing.map((r) => r.name),
      `axe-core (WCAG 2.1 A/AA) found violations:\n\n${formatViolations(failing)}`,
    ).toEqual([]);
  });
});
