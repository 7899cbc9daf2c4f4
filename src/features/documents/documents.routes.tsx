import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { bodyInput, idParam, routeParams } from '../../core/http/input.ts';
import { renderPage } from '../../core/http/render.ts';
import { requireUser, setFlash } from '../../core/http/session.ts';
import type { DocumentScope } from '../../db/schema.ts';
import { presentSpace } from './documents.presenter.ts';
import { listSpace, openDocument } from './documents.service.ts';
import { contentDisposition, INLINE_TYPES } from './files.ts';
import { setDocumentNotice } from './notices.service.ts';
import { SpacePage } from './documents.views.tsx';

const accountParams = z.object({ id: idParam });
const documentParams = z.object({ id: idParam, docId: idParam });
/** An unchecked box sends nothing: absent means no. */
const noticeBody = z.object({ avis: z.literal('oui').optional() });

export async function documentRoutes(app: FastifyInstance) {
  const { storage } = app.deps;

  async function spacePage(req: FastifyRequest, reply: FastifyReply, space: DocumentScope) {
    const { id } = routeParams(req, accountParams);
    const { viewer, documents } = await listSpace(req.ctx, id, space);
    const view = presentSpace({
      viewer,
      space,
      documents,
      account: { id: viewer.id, kind: viewer.kind, reference: viewer.reference, buildingName: viewer.building_name },
    });
    return renderPage(req, reply, (ctx) => <SpacePage ctx={ctx} view={view} />);
  }

  app.get('/comptes/:id/documents', { preHandler: requireUser }, (req, reply) => spacePage(req, reply, 'account'));
  app.get('/comptes/:id/documents/immeuble', { preHandler: requireUser }, (req, reply) =>
    spacePage(req, reply, 'building'),
  );
  app.get('/comptes/:id/documents/conseil', { preHandler: requireUser }, (req, reply) =>
    spacePage(req, reply, 'council'),
  );

  async function send(req: FastifyRequest, reply: FastifyReply, mode: 'attachment' | 'inline') {
    const { id, docId } = routeParams(req, documentParams);
    const { doc, body } = await openDocument(req.ctx, storage, id, docId);
    // Only what a browser shows by itself opens inline; anything else is always a download.
    const disposition = mode === 'inline' && INLINE_TYPES.has(doc.content_type) ? 'inline' : 'attachment';
    return reply
      .type(doc.content_type)
      .header('content-disposition', contentDisposition(disposition, doc.title, doc.content_type))
      .header('x-content-type-options', 'nosniff')
      .header('cache-control', 'private, no-store')
      .send(body);
  }

  app.get('/comptes/:id/documents/:docId', { preHandler: requireUser }, (req, reply) => send(req, reply, 'attachment'));
  app.post('/profil/avis-documents', { preHandler: requireUser }, async (req, reply) => {
    const parsed = bodyInput(req, noticeBody);
    const on = parsed.success && parsed.data.avis === 'oui';
    await setDocumentNotice(req.ctx, on);
    setFlash(reply, {
      kind: 'success',
      message: on
        ? 'Vous recevrez un email quand un nouveau document sera publié dans vos espaces.'
        : 'Vous ne recevrez plus d’email à la publication de nouveaux documents.',
    });
    return reply.redirect('/profil', 303);
  });

  app.get('/comptes/:id/documents/:docId/voir', { preHandler: requireUser }, (req, reply) =>
    send(req, reply, 'inline'),
  );
}
