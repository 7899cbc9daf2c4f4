import Stripe from 'stripe';

/**
 * Card payments through a hosted checkout page: Palier never sees a card number. One
 * provider today, Stripe Checkout; the interface is what the "Payer" feature needs of any.
 */
export interface CardPayments {
  /** Opens a checkout for one amount; the person is sent to `url`. */
  createCheckout(input: CheckoutInput): Promise<{ sessionId: string; url: string }>;
  /**
   * The provider's notification, checked against its signature on the raw body. Throws
   * InvalidSignature when it is not from the provider (or was altered, or is too old).
   */
  readNotification(rawBody: Buffer, signature: string | undefined): PaymentNotification;
}

export interface CheckoutInput {
  amountCents: number;
  /** Palier's payment reference: in the metadata, the description, and on the person's bank statement where possible. */
  reference: string;
  /** What the person pays, shown on the checkout page ("Compte N° C0042 – Syndicat …"). */
  description: string;
  customerEmail: string | null;
  successUrl: string;
  cancelUrl: string;
}

export type PaymentNotification =
  | { kind: 'paid'; eventId: string; sessionId: string; reference: string | null }
  | { kind: 'expired'; eventId: string; sessionId: string; reference: string | null }
  | { kind: 'failed'; eventId: string; reference: string | null }
  | { kind: 'ignored'; eventId: string; type: string };

export class InvalidSignature extends Error {}

export interface StripeSettings {
  secretKey: string;
  webhookSecret: string;
  /** Another API address (tests, a proxy); Stripe's own by default. */
  apiBase: string | null;
}

/**
 * Where the hosted checkout pages live. The « Payer par carte » form's answer redirects there,
 * and browsers hold that redirect to the page's CSP form-action: these origins must be allowed.
 * With another API address (a local stand-in in tests), its checkout pages are served from it.
 */
export function checkoutOrigins(settings: StripeSettings): string[] {
  const origins = ['https://checkout.stripe.com'];
  if (settings.apiBase) origins.push(new URL(settings.apiBase).origin);
  return origins;
}

export function createStripePayments(settings: StripeSettings): CardPayments {
  const base = settings.apiBase ? new URL(settings.apiBase) : null;
  const stripe = new Stripe(settings.secretKey, {
    maxNetworkRetries: 1,
    timeout: 20_000,
    telemetry: false,
    ...(base && {
      host: base.hostname,
      port: base.port || (base.protocol === 'https:' ? 443 : 80),
      protocol: base.protocol === 'http:' ? 'http' : 'https',
    }),
  });

  return {
    async createCheckout(input) {
      const session = await stripe.checkout.sessions.create(
        {
          mode: 'payment',
          locale: 'fr',
          line_items: [
            {
              quantity: 1,
              price_data: {
                currency: 'eur',
                unit_amount: input.amountCents,
                product_data: { name: input.description },
              },
            },
          ],
          client_reference_id: input.reference,
          metadata: { reference: input.reference },
          payment_intent_data: {
            description: `${input.description} – réf. ${input.reference}`,
            metadata: { reference: input.reference },
          },
          ...(input.customerEmail ? { customer_email: input.customerEmail } : {}),
          success_url: input.successUrl,
          cancel_url: input.cancelUrl,
        },
        // One session per payment row, even if the request is retried.
        { idempotencyKey: `checkout-${input.reference}` },
      );
      if (!session.url) throw new Error('checkout session without a URL');
      return { sessionId: session.id, url: session.url };
    },

    readNotification(rawBody, signature) {
      let event: Stripe.Event;
      try {
        event = stripe.webhooks.constructEvent(rawBody, signature ?? '', settings.webhookSecret);
      } catch (err) {
        throw new InvalidSignature((err as Error).message);
      }
      switch (event.type) {
        case 'checkout.session.completed':
        case 'checkout.session.async_payment_succeeded': {
          const s = event.data.object;
          // A completed session with a delayed method (none is offered) is not paid yet.
          if (s.payment_status !== 'paid') return { kind: 'ignored', eventId: event.id, type: event.type };
          return { kind: 'paid', eventId: event.id, sessionId: s.id, reference: s.metadata?.reference ?? null };
        }
        case 'checkout.session.expired': {
          const s = event.data.object;
          return { kind: 'expired', eventId: event.id, sessionId: s.id, reference: s.metadata?.reference ?? null };
        }
        case 'payment_intent.payment_failed': {
          const pi = event.data.object;
          return { kind: 'failed', eventId: event.id, reference: pi.metadata?.reference ?? null };
        }
        default:
          return { kind: 'ignored', eventId: event.id, type: event.type };
      }
    },
  };
}
