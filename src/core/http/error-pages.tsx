import type { FastifyError, FastifyInstance } from 'fastify';
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
