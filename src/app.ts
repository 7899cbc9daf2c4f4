import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import cookie from '@fastify/cookie';
import csrf from '@fastify/csrf-protection';
import formbody from '@fastify/formbody';
import fastifyStatic from '@fastify/static';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { agencyIdentity } from './core/agency/agency.ts';
import { checkoutOrigins, createStripePayments, type CardPayments } from './adapters/payments/card-payments.ts';
import { createStorage, type Storage } from './adapters/storage/storage.ts';
import type { AppDeps } from './core/http/deps.ts';
import { securityHeaders } from './core/http/security-headers.ts';
import { clientErrorPage, frameworkErrorPage, registerErrorPages } from './core/http/error-pages.tsx';
import { readFlash } from './core/http/render.ts';
import { sessions } from './core/http/session.ts';
import { accountRoutes } from './features/accounts/accounts.routes.tsx';
import { agencyRoutes } from './features/agency/agency.routes.ts';
import { authRoutes } from './features/auth/auth.routes.tsx';
import { claimRoutes } from './features/claim/claim.routes.tsx';
import { contactRoutes } from './features/contact/contact.routes.tsx';
import { documentRoutes } from './features/documents/documents.routes.tsx';
import { healthRoutes } from './features/health/health.routes.ts';
import { homeRoutes } from './features/home/home.routes.tsx';
import { privacyRoutes } from './features/privacy/privacy.routes.tsx';
import { profileRoutes } from './features/profile/profile.routes.tsx';
import { statementRoutes } from './features/statements/statements.routes.tsx';

const publicDir = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'public');

// The adapters the composition root wires into every request's reach (see core/http/deps.ts).
declare module './core/http/deps.ts' {
  interface AppDeps {
    /** Stored files (the logo, documents); by default the local folder or bucket the configuration names. */
    storage?: Storage;
    /** Card payments (Stripe Checkout); null when the configuration has no keys: no card option. */
    cardPayments?: CardPayments | null;
  }
}

export async function buildApp(deps: AppDeps, opts: { logger?: FastifyBaseLogger } = {}): Promise<FastifyInstance> {
  const app = Fastify({
    ...(opts.logger ? { loggerInstance: opts.logger } : { logger: false }),
    bodyLimit: 1024 * 1024,
    trustProxy: deps.config.trustProxy,
    // A request id ties together the log lines of one request; a trusted proxy's id is kept.
    requestIdHeader: deps.config.trustProxy ? 'x-request-id' : false,
    genReqId: () => randomUUID(),
    // Malformed URLs and requests Node's parser refuses get French pages, not English JSON.
    frameworkErrors: frameworkErrorPage,
    clientErrorHandler: clientErrorPage,
  });
  app.decorate('deps', {
    ...deps,
    now: deps.now ?? (() => new Date()),
    agency: deps.agency ?? agencyIdentity(deps.db),
    storage: deps.storage ?? createStorage(deps.config),
    cardPayments:
      deps.cardPayments !== undefined
        ? deps.cardPayments
        : deps.config.stripe
          ? createStripePayments(deps.config.stripe)
          : null,
  });

  await app.register(securityHeaders, {
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        styleSrc: ["'self'"],
        scriptSrc: ["'self'"],
        // The card form's 303 goes to the provider's checkout page: without its origin here,
        // browsers block the redirect and card payment never starts.
        formAction: ["'self'", ...(deps.config.stripe ? checkoutOrigins(deps.config.stripe) : [])],
        frameAncestors: ["'none'"],
        upgradeInsecureRequests: deps.config.secureCookies ? [] : null,
      },
    },
    hsts: deps.config.secureCookies ? { maxAge: 31536000, includeSubDomains: true } : false,
    referrerPolicy: { policy: 'same-origin' },
  });
  await app.register(cookie, { secret: deps.config.secrets.cookieSecret });
  await app.register(formbody);
  await app.register(csrf, {
    sessionPlugin: '@fastify/cookie',
    cookieKey: deps.config.secureCookies ? '__Host-palier_csrf' : 'palier_csrf',
    cookieOpts: { path: '/', httpOnly: true, sameSite: 'lax', signed: true, secure: deps.config.secureCookies },
  });
  await app.register(fastifyStatic, { root: publicDir, prefix: '/static/', maxAge: '1h', index: false });
  // Browsers ask for /favicon.ico whatever the page links: the PNG answers, rather than a 404.
  app.get('/favicon.ico', (_req, reply) => reply.type('image/png').sendFile('favicon.png', { maxAge: 86_400_000 }));
  await app.register(sessions);

  app.decorateRequest('flash', null);
  app.addHook('onRequest', async (req, reply) => {
    req.flash = readFlash(req, reply);
  });
  // Every state-changing request carries the form's token (checked once the body is parsed).
  app.addHook('preHandler', (req, reply, done) => {
    if (req.method === 'POST' || req.method === 'PUT' || req.method === 'PATCH' || req.method === 'DELETE') {
      // The one exception: a route whose body the payment provider signs, checked by the route.
      if (req.method === 'POST' && req.routeOptions.config.csrfExempt === 'provider-signature') return done();
      return app.csrfProtection(req, reply, done);
    }
    done();
  });

  registerErrorPages(app);

  await app.register(healthRoutes);
  await app.register(agencyRoutes);
  await app.register(authRoutes);
  await app.register(claimRoutes);
  await app.register(homeRoutes);
  await app.register(statementRoutes);
  await app.register(accountRoutes);
  await app.register(profileRoutes);
  await app.register(privacyRoutes);
  await app.register(contactRoutes);
  await app.register(documentRoutes);
  return app;
}
