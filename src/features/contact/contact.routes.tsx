import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { bodyInput, echoForm, idParam, routeParams } from '../../core/http/input.ts';
import { agencyOf, fieldErrors, renderPage } from '../../core/http/render.ts';
import { requireUser, setFlash } from '../../core/http/session.ts';
import { retryTime } from '../../core/security/attempts.ts';
import type { FormErrors } from '../../core/views/components.tsx';
import { accountSummary, loadAccount, type AccountContext } from '../accounts/accounts.service.ts';
import { messageSchema } from './contact.schemas.ts';
import { contactDirectory, sendMessage } from './contact.service.ts';
import { AccountContactPage, ContactPage } from './contact.views.tsx';

const accountParams = z.object({ id: idParam });

export async function contactRoutes(app: FastifyInstance) {
  async function renderAccountContact(
    req: FastifyRequest,
    reply: Parameters<typeof renderPage>[1],
    target: AccountContext,
    form: { values?: { subject: string; body: string }; errors?: FormErrors; status?: number } = {},
  ) {
    const summary = accountSummary(target);
    const manager = target.manager;
    const agency = await agencyOf(req);
    return renderPage(
      req,
      reply,
      (ctx) => (
        <AccountContactPage
          ctx={ctx}
          account={summary}
          manager={manager}
          agency={agency}
          userEmail={req.user!.email}
          values={form.values}
          errors={form.errors}
        />
      ),
      form.status ?? 200,
    );
  }

  app.get('/contact', { preHandler: requireUser }, async (req, reply) => {
    const agency = await agencyOf(req);
    const groups = await contactDirectory(req.ctx);
    return renderPage(req, reply, (ctx) => <ContactPage ctx={ctx} agency={agency} groups={groups} />);
  });

  app.get('/comptes/:id/contact', { preHandler: requireUser }, async (req, reply) => {
    const { id } = routeParams(req, accountParams);
    return renderAccountContact(req, reply, await loadAccount(req.ctx, id, 'contact'));
  });

  app.post('/comptes/:id/contact', { preHandler: requireUser }, async (req, reply) => {
    const { id } = routeParams(req, accountParams);
    const target = await loadAccount(req.ctx, id, 'contact');
    const account = target.account;
    const parsed = bodyInput(req, messageSchema);
    if (!parsed.success) {
      return renderAccountContact(req, reply, target, {
        values: echoForm(req.body, ['subject', 'body']),
        errors: fieldErrors(parsed.error.issues),
        status: 400,
      });
    }
    const result = await sendMessage(req.ctx, target, parsed.data);
    if (!result.ok) {
      return renderAccountContact(req, reply, target, {
        values: parsed.data,
        errors: {
          _form: `Vous avez envoyé beaucoup de messages en peu de temps. Pour éviter les abus, l’envoi est suspendu jusqu’à ${retryTime(result.lockedUntil)} ; votre texte est conservé ci-dessous.`,
        },
        status: 429,
      });
    }
    setFlash(
      reply,
      result.mailed
        ? { kind: 'success', message: `Votre message a été envoyé à ${result.recipient}.` }
        : {
            kind: 'info',
            message:
              'Votre message est enregistré, mais il n’a pas pu être transmis par email : ni votre gestionnaire ni l’agence n’ont encore d’adresse email connue. Pour une demande urgente, appelez l’agence.',
          },
    );
    return reply.redirect(`/comptes/${account.id}/contact`, 303);
  });
}
