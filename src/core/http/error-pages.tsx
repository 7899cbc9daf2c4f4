import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { renderToString } from 'preact-render-to-string';
import { NEUTRAL_AGENCY, type Agency } from '../agency/agency.repository.ts';
import { AppError } from '../errors.ts';
import { maskUrl } from '../logging.ts';
import { Layout } from '../views/layout.tsx';
import { renderPage } from './render.ts';

function ErrorView({
  title,
  message,
  ctx,
}: {
  title: string;
  message: string;
  ctx: Parameters<typeof Layout>[0]['ctx'];
}) {
  return (
    <Layout ctx={ctx} title={title} narrow>
      <h1>{title}</h1>
      <p>{message}</p>
      <p>
        <a href={ctx.user ? '/accueil' : '/'}>Revenir à l’accueil</a>
      </p>
    </Layout>
  );
}

/** One handler: French pages for users, internals only in the logs. */
export function registerErrorPages(app: FastifyInstance): void {
  app.setNotFoundHandler(async (req, reply) =>
    renderPage(
      req,
      reply,
      (ctx) => (
        <ErrorView ctx={ctx} title="Page introuvable" message="Cette page n’existe pas ou n’est plus disponible." />
      ),
      404,
    ),
  );

  app.setErrorHandler(async (err: FastifyError, req, reply) => {
    let status = 500;
    let title = 'Une erreur est survenue';
    let message =
      'Un problème technique nous empêche d’afficher cette page. Veuillez réessayer dans quelques instants.';
    if (err instanceof AppError) {
      status = err.statusCode;
      message = err.userMessage;
      title = status === 404 ? 'Page introuvable' : 'Demande impossible';
    } else if (err.code?.startsWith('FST_CSRF')) {
      status = 403;
      title = 'Formulaire expiré';
      message =
        'Pour votre sécurité, ce formulaire a expiré ou n’a pas été envoyé depuis notre site. Revenez à la page précédente, actualisez-la puis réessayez.';
      req.log.warn(
        { event: 'csrf.refused', outcome: 'denied', ip: req.ip, url: maskUrl(req.url) },
        'CSRF token refused',
      );
    } else if (err.statusCode === 429) {
      status = 429;
      title = 'Trop de demandes';
      message = 'Vous avez fait trop de demandes en peu de temps. Veuillez patienter quelques minutes.';
    } else if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
      status = err.statusCode;
      title = 'Demande incorrecte';
      message = 'Votre demande n’a pas pu être traitée. Vérifiez les informations saisies et réessayez.';
    } else {
      req.log.error({ err }, 'unhandled error');
    }
    try {
      return await renderPage(req, reply, (ctx) => <ErrorView ctx={ctx} title={title} message={message} />, status);
    } catch (renderError) {
      req.log.error({ err: renderError }, 'error page failed');
      return reply.status(status).type('text/plain; charset=utf-8').send(message);
    }
  });
}

// ---------------------------------------------------------------------------
// Requests refused before any route or hook runs

/**
 * What a page refused before the request's hooks ran carries instead of helmet's headers:
 * no script, no framing, no sniffing, not kept.
 */
const BARE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy': "default-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-store',
};

/**
 * The agency's identity if it can be had soon (it is normally in memory), else the neutral
 * one: a database that hangs must not keep refused connections open.
 */
async function agencyOrNeutral(app: FastifyInstance | undefined): Promise<Agency> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<Agency>((resolve) => {
    timer = setTimeout(() => resolve(NEUTRAL_AGENCY), 1000);
  });
  try {
    return await Promise.race([app?.deps?.agency.get() ?? NEUTRAL_AGENCY, late]);
  } catch {
    return NEUTRAL_AGENCY;
  } finally {
    clearTimeout(timer);
  }
}

/** An error page needing nothing from the request: nobody is signed in, no form is shown. */
function barePage(agency: Agency, title: string, message: string): string {
  const ctx = { agency, csrfToken: '', user: null, flash: null, path: '/' };
  return `<!doctype html>${renderToString(<ErrorView ctx={ctx} title={title} message={message} />)}`;
}

function refusal(status: number): { title: string; message: string } {
  if (status === 431) {
    return {
      title: 'Demande trop volumineuse',
      message:
        'Votre navigateur a envoyé des informations trop volumineuses (des cookies, le plus souvent). Effacez les cookies de ce site puis réessayez.',
    };
  }
  if (status === 408) {
    return {
      title: 'Délai dépassé',
      message: 'Votre demande a mis trop de temps à nous parvenir. Veuillez réessayer.',
    };
  }
  if (status >= 500) {
    return {
      title: 'Une erreur est survenue',
      message: 'Un problème technique nous empêche d’afficher cette page. Veuillez réessayer dans quelques instants.',
    };
  }
  return {
    title: 'Adresse incorrecte',
    message: 'L’adresse demandée n’est pas valide. Vérifiez-la ou revenez à l’accueil.',
  };
}

/**
 * Fastify's `frameworkErrors`: a URL that cannot be decoded (`/%E0%A4%A`), a route
 * parameter too long. Without it Fastify answers in English JSON; the request has not
 * been through any hook (no cookies, no session), so the page asks nothing of it.
 */
export async function frameworkErrorPage(err: FastifyError, req: FastifyRequest, reply: FastifyReply): Promise<void> {
  const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 400;
  // The URL may hold a token: only the error's code is logged.
  if (status >= 500) req.log.error({ code: err.code }, 'request refused by the router');
  else req.log.info({ code: err.code, statusCode: status }, 'malformed request refused');
  const { title, message } = refusal(status);
  try {
    const html = barePage(await agencyOrNeutral(req.server), title, message);
    await reply.status(status).headers(BARE_HEADERS).send(html);
  } catch (renderError) {
    req.log.error({ err: renderError }, 'error page failed');
    if (!reply.sent) await reply.status(status).type('text/plain; charset=utf-8').send(message);
  }
}

const CLIENT_ERROR_STATUS: Record<string, number> = {
  HPE_HEADER_OVERFLOW: 431,
  ERR_HTTP_REQUEST_TIMEOUT: 408,
};

/**
 * Fastify's `clientErrorHandler`: Node's HTTP parser refused the request (headers larger
 * than `maxHeaderSize`, malformed HTTP, too slow), so there is no request object, only the
 * socket. Answers as Node and Fastify would, with a French page instead of their text or
 * JSON, then closes the connection. Behind nginx most of these never reach Palier: nginx
 * refuses oversized headers (large_client_header_buffers) and malformed HTTP with its own page.
 */
export function clientErrorPage(this: FastifyInstance | undefined, err: Error & { code?: string }, socket: Duplex) {
  // A reset connection has nobody to answer.
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const status = CLIENT_ERROR_STATUS[err.code ?? ''] ?? 400;
  this?.log?.debug({ code: err.code, statusCode: status }, 'client error');
  void agencyOrNeutral(this).then((agency) => {
    if (socket.writable) {
      const { title, message } = refusal(status);
      const body = Buffer.from(barePage(agency, title, message));
      const headers = { ...BARE_HEADERS, 'content-length': String(body.length), connection: 'close' };
      socket.write(
        `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n${Object.entries(headers)
          .map(([k, v]) => `${k}: ${v}\r\n`)
          .join('')}\r\n`,
      );
      socket.write(body);
    }
    socket.destroy(err);
  });
}
