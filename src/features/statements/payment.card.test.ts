import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../../../test/helpers/app.ts';
import { csrfTokenOf, type TestClient, textOf } from '../../../test/helpers/client.ts';
import { dialects } from '../../../test/helpers/db.ts';
import { addLedger, createBuilding, createUser, seedAccount } from '../../../test/helpers/factories.ts';
import { loginAs } from '../../../test/helpers/login.ts';
import { loadConfig } from '../../config.ts';
import { setAgency } from '../../core/agency/agency.repository.ts';

const WEBHOOK_SECRET = 'whsec_test_palier';

/** A local stand-in for the provider's API: answers checkout session creation like Stripe does. */
interface FakeProvider {
  url: string;
  requests: { path: string; body: URLSearchParams; auth: string | undefined }[];
  failNext: number;
  close(): Promise<void>;
}

async function startFakeProvider(): Promise<FakeProvider> {
  let n = 0;
  const fake: Omit<FakeProvider, 'url' | 'close'> = { requests: [], failNext: 0 };
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      fake.requests.push({ path: req.url ?? '', body: new URLSearchParams(raw), auth: req.headers.authorization });
      res.setHeader('content-type', 'application/json');
      if (fake.failNext > 0) {
        fake.failNext--;
        res.statusCode = 500;
        res.end(JSON.stringify({ error: { type: 'api_error', message: 'boom' } }));
        return;
      }
      if (req.method !== 'POST' || req.url !== '/v1/checkout/sessions') {
        res.statusCode = 404;
        res.end(JSON.stringify({ error: { type: 'invalid_request_error', message: 'unknown' } }));
        return;
      }
      const id = `cs_test_${++n}`;
      res.end(JSON.stringify({ id, object: 'checkout.session', url: `https://checkout.stripe.test/c/pay/${id}` }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(fake, {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}

const signer = new Stripe('sk_test_signer');

function event(type: string, object: Record<string, unknown>, id = `evt_${Math.random().toString(36).slice(2)}`) {
  return JSON.stringify({ id, object: 'event', api_version: '2025-01-01', type, data: { object } });
}

describe.each(dialects)('Payer by card through Stripe Checkout (%s)', (dialect) => {
  let t: TestApp;
  let provider: FakeProvider;
  let account: Awaited<ReturnType<typeof seedAccount>>;
  let client: TestClient;

  beforeAll(async () => {
    provider = await startFakeProvider();
    t = await buildTestApp(dialect, {
      stripe: { secretKey: 'sk_test_palier', webhookSecret: WEBHOOK_SECRET, apiBase: provider.url },
    });
    await setAgency(t.db, { name: 'Cabinet Exemple' });
    const building = await createBuilding(t.db, { name: 'Le Belvédère' });
    account = await seedAccount(t.db, t.config, { buildingId: building.id });
    await addLedger(t.db, account.id, [{ date: '2024-01-01', label: 'Appel de fonds', debit: 137_820 }]);
    const user = await createUser(t.db, { accountIds: [account.id] });
    client = await loginAs(t.app, user.email, user.password);
  });
  afterAll(async () => {
    await t?.close();
    await provider?.close();
  });

  /** The provider's notification, signed with the SDK's own test helper. */
  function notify(payload: string, opts: { secret?: string; signature?: string } = {}) {
    const signature =
      opts.signature ?? signer.webhooks.generateTestHeaderString({ payload, secret: opts.secret ?? WEBHOOK_SECRET });
    // No cookie, no form token: the provider calls from its servers.
    return t.app.inject({
      method: 'POST',
      url: '/paiements/stripe/webhook',
      payload,
      headers: { 'content-type': 'application/json', 'stripe-signature': signature },
    });
  }

  async function startPayment(montant: string) {
    const page = await client.get(`/comptes/${account.id}/payer?montant=${encodeURIComponent(montant)}`);
    return client.post(`/comptes/${account.id}/payer/carte`, { montant }, { csrf: csrfTokenOf(page.body) });
  }

  const paymentRows = () => t.db.selectFrom('payments').selectAll().orderBy('id').execute();

  it('offers the card, opens a checkout session for the amount and sends the person there', async () => {
    const page = await client.get(`/comptes/${account.id}/payer`);
    expect(textOf(page.body)).toContain('Par carte bancaire');
    expect(textOf(page.body)).toContain('Payer 1 378,20 € par carte');

    const res = await startPayment('1378,20');
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe('https://checkout.stripe.test/c/pay/cs_test_1');
    const [row] = await paymentRows();
    expect(row).toMatchObject({
      account_id: account.id,
      amount_cents: 137_820,
      method: 'card',
      status: 'pending',
      provider_session_id: 'cs_test_1',
    });
    expect(row!.reference).toMatch(/^PL[A-Z2-9]{8}$/);

    const sent = provider.requests.at(-1)!;
    expect(sent.path).toBe('/v1/checkout/sessions');
    expect(sent.auth).toBe('Bearer sk_test_palier');
    const b = sent.body;
    expect(b.get('mode')).toBe('payment');
    expect(b.get('line_items[0][price_data][currency]')).toBe('eur');
    expect(b.get('line_items[0][price_data][unit_amount]')).toBe('137820');
    expect(b.get('metadata[reference]')).toBe(row!.reference);
    expect(b.get('payment_intent_data[metadata][reference]')).toBe(row!.reference);
    expect(b.get('payment_intent_data[description]')).toBe(
      `Cabinet Exemple – compte N° ${account.reference} – réf. ${row!.reference}`,
    );
    expect(b.get('success_url')).toBe(`http://palier.test/comptes/${account.id}/payer/carte/${row!.reference}`);
    expect(b.get('cancel_url')).toBe(
      `http://palier.test/comptes/${account.id}/payer/carte/${row!.reference}?abandon=1`,
    );

    // Back from the provider before its notification: the page says it is being confirmed.
    const back = await client.get(`/comptes/${account.id}/payer/carte/${row!.reference}`);
    expect(back.statusCode).toBe(200);
    expect(textOf(back.body)).toContain('Paiement en cours de confirmation');
    expect(textOf(back.body)).toContain(`Montant 1 378,20 € Référence du paiement ${row!.reference}`);
  });

  it('records the paid notification once, however many times it is delivered, and shows it apart on the statement', async () => {
    const [row] = await paymentRows();
    const payload = event(
      'checkout.session.completed',
      { id: 'cs_test_1', object: 'checkout.session', payment_status: 'paid', metadata: { reference: row!.reference } },
      'evt_paid_1',
    );
    for (let i = 0; i < 2; i++) {
      const res = await notify(payload);
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ received: true });
    }
    expect((await paymentRows()).map((p) => p.status)).toEqual(['paid']);
    const audits = await t.db.selectFrom('audit_events').selectAll().where('action', '=', 'payment.paid').execute();
    expect(audits).toHaveLength(1);
    expect(audits[0]).toMatchObject({ account_id: account.id, outcome: 'success' });

    const back = await client.get(`/comptes/${account.id}/payer/carte/${row!.reference}`);
    expect(textOf(back.body)).toContain('Paiement reçu');

    const statement = await client.get(`/comptes/${account.id}/extrait`);
    const text = textOf(statement.body);
    expect(text).toContain(`Paiements en ligne en cours de rapprochement Ces paiements sont confirmés.`);
    expect(text).toMatch(
      new RegExp(
        `\\d{2}/\\d{2}/\\d{4} – Paiement en ligne \\(en cours de rapprochement\\) – 1 378,20 € \\(référence ${row!.reference}\\)`,
      ),
    );
    // Above the table, never one of its lines: the balance is the ledger's.
    const tbody = /<tbody>([\s\S]*?)<\/tbody>/.exec(statement.body)![1]!;
    expect(tbody).not.toContain('Paiement en ligne');
    expect(statement.body.indexOf('Paiement en ligne')).toBeLessThan(statement.body.indexOf('<table'));

    // The accounting import brings the line carrying the reference: the pending line goes.
    await addLedger(t.db, account.id, [
      { date: '2024-02-01', label: `Règlement CB ${row!.reference.toLowerCase()}`, credit: 137_820 },
    ]);
    const after = await client.get(`/comptes/${account.id}/extrait`);
    expect(textOf(after.body)).not.toContain('en cours de rapprochement');
    // The next call for funds, for the tests below.
    await addLedger(t.db, account.id, [{ date: '2024-04-01', label: 'Appel de fonds', debit: 500_000 }]);
  });

  it('refuses a notification whose signature does not match, and changes nothing', async () => {
    const res = await startPayment('100');
    expect(res.statusCode).toBe(303);
    const row = (await paymentRows()).at(-1)!;
    const payload = event('checkout.session.completed', {
      id: row.provider_session_id,
      object: 'checkout.session',
      payment_status: 'paid',
      metadata: { reference: row.reference },
    });
    for (const r of [
      await notify(payload, { secret: 'whsec_someone_else' }),
      await notify(payload, { signature: 't=1,v1=00' }),
      await notify(payload, { signature: '' }),
      await notify(payload.replace('"paid"', '"paid" '), {
        signature: signer.webhooks.generateTestHeaderString({ payload, secret: WEBHOOK_SECRET }),
      }),
    ]) {
      expect(r.statusCode).toBe(400);
    }
    expect((await paymentRows()).at(-1)!.status).toBe('pending');
  });

  it('marks a failed payment failed, and an expired session or « Retour » abandoned', async () => {
    const pending = (await paymentRows()).at(-1)!;
    const failed = await notify(
      event('payment_intent.payment_failed', {
        id: 'pi_1',
        object: 'payment_intent',
        metadata: { reference: pending.reference },
      }),
    );
    expect(failed.statusCode).toBe(200);
    const page = await client.get(`/comptes/${account.id}/payer/carte/${pending.reference}`);
    expect(textOf(page.body)).toContain('Le paiement a échoué');
    expect(textOf(page.body)).toContain('Aucun montant n’a été débité.');
    expect(page.body).toContain(`href="/comptes/${account.id}/payer"`);

    await startPayment('200');
    const second = (await paymentRows()).at(-1)!;
    await notify(event('checkout.session.expired', { id: second.provider_session_id, object: 'checkout.session' }));
    expect((await paymentRows()).at(-1)!.status).toBe('abandoned');

    await startPayment('300');
    const third = (await paymentRows()).at(-1)!;
    const cancel = await client.get(`/comptes/${account.id}/payer/carte/${third.reference}?abandon=1`);
    expect(cancel.statusCode).toBe(303);
    const shown = await client.follow(cancel);
    expect(textOf(shown.body)).toContain('Paiement abandonné');
    // Paid later all the same (the session was still open): the money wins.
    await notify(
      event('checkout.session.completed', {
        id: third.provider_session_id,
        object: 'checkout.session',
        payment_status: 'paid',
      }),
    );
    expect((await paymentRows()).at(-1)!.status).toBe('paid');
  });

  it('refuses amounts out of bounds in French and writes nothing', async () => {
    const before = (await paymentRows()).length;
    const requests = provider.requests.length;
    const over = await startPayment('10000,01');
    expect(over.statusCode).toBe(400);
    expect(textOf(over.body)).toContain('Le montant ne peut pas dépasser 10 000,00 € en un paiement.');
    const zero = await startPayment('0');
    expect(zero.statusCode).toBe(400);
    expect(textOf(zero.body)).toContain('Le montant doit être supérieur à 0,00 €.');
    const garbage = await startPayment('abc');
    expect(garbage.statusCode).toBe(303);
    expect(textOf((await client.follow(garbage)).body)).toContain('Saisissez un montant en euros');
    expect((await paymentRows()).length).toBe(before);
    expect(provider.requests.length).toBe(requests);
  });

  it('says so in French when the provider is down, and keeps the attempt as failed', async () => {
    provider.failNext = 5;
    const res = await startPayment('50');
    provider.failNext = 0;
    expect(res.statusCode).toBe(502);
    expect(textOf(res.body)).toContain('Le paiement par carte est momentanément indisponible.');
    expect((await paymentRows()).at(-1)).toMatchObject({ status: 'failed', provider_session_id: null });
  });

  it('shows nobody else’s payment, and needs the form token to start one', async () => {
    const row = (await paymentRows())[0]!;
    const other = await seedAccount(t.db, t.config);
    await addLedger(t.db, other.id, [{ date: '2024-01-01', label: 'Appel', debit: 10_000 }]);
    const u = await createUser(t.db, { accountIds: [other.id] });
    const stranger = await loginAs(t.app, u.email, u.password);
    expect((await stranger.get(`/comptes/${account.id}/payer/carte/${row.reference}`)).statusCode).toBe(404);
    expect((await stranger.get(`/comptes/${other.id}/payer/carte/${row.reference}`)).statusCode).toBe(404);
    const forged = await client.post(`/comptes/${account.id}/payer/carte`, { montant: '10' }, { csrf: null });
    expect(forged.statusCode).toBe(403);
  });
});

describe('card payment configuration', () => {
  it('needs both keys, or none: half a configuration is refused in French', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'palier-config-'));
    try {
      const env = { DATA_DIR: dir };
      expect(loadConfig(env).stripe).toBeNull();
      expect(loadConfig({ ...env, STRIPE_SECRET_KEY: 'sk_test_1', STRIPE_WEBHOOK_SECRET: 'whsec_1' }).stripe).toEqual({
        secretKey: 'sk_test_1',
        webhookSecret: 'whsec_1',
        apiBase: null,
      });
      expect(() => loadConfig({ ...env, STRIPE_SECRET_KEY: 'sk_test_1' })).toThrow(
        /STRIPE_SECRET_KEY et STRIPE_WEBHOOK_SECRET : renseignez les deux/,
      );
      expect(() => loadConfig({ ...env, STRIPE_WEBHOOK_SECRET: 'whsec_1' })).toThrow(/renseignez les deux/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
