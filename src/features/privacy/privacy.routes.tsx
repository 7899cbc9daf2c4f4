import type { FastifyInstance, FastifyReply } from 'fastify';
import { bodyInput } from '../../core/http/input.ts';
import { fieldErrors, renderPage } from '../../core/http/render.ts';
import { endSession, requireUser, setFlash } from '../../core/http/session.ts';
import type { PersonalDataFile } from './privacy.presenter.ts';
import { closeSpaceSchema } from './privacy.schemas.ts';
import { closeSpace, exportPersonalData } from './privacy.service.ts';
import { CloseSpacePage } from './privacy.views.tsx';

function sendFile(reply: FastifyReply, file: PersonalDataFile) {
  return reply
    .header('content-type', file.contentType)
    .header('content-disposition', `attachment; filename="${file.fileName}"`)
    .header('cache-control', 'no-store')
    .send(file.body);
}

/** « Mes données » (download) and « Fermer mon espace client », reached from Profil. */
export async function privacyRoutes(app: FastifyInstance) {
  // Reading only: a link is enough, and the file is made for the signed-in person alone.
  app.get('/profil/mes-donnees.json', { preHandler: requireUser }, async (req, reply) =>
    sendFile(reply, await exportPersonalData(req.ctx, { format: 'json' })),
  );
  app.get('/profil/mes-donnees.csv', { preHandler: requireUser }, async (req, reply) =>
    sendFile(reply, await exportPersonalData(req.ctx, { format: 'csv' })),
  );

  app.get('/profil/fermeture', { preHandler: requireUser }, async (req, reply) =>
    renderPage(req, reply, (ctx) => <CloseSpacePage ctx={ctx} />),
  );

  app.post('/profil/fermeture', { preHandler: requireUser }, async (req, reply) => {
    const parsed = bodyInput(req, closeSpaceSchema);
    if (!parsed.success) {
      return renderPage(
        req,
        reply,
        (ctx) => <CloseSpacePage ctx={ctx} errors={fieldErrors(parsed.error.issues)} />,
        400,
      );
    }
    const result = await closeSpace(req.ctx, parsed.data);
    if (!result.ok) {
      return renderPage(req, reply, (ctx) => <CloseSpacePage ctx={ctx} errors={result.errors} />, result.status);
    }
    await endSession(req, reply);
    setFlash(reply, {
      kind: 'success',
      message: 'Votre espace client est fermé. Un email de confirmation a été envoyé à votre adresse.',
    });
    return reply.redirect('/', 303);
  });
}
