import type { FastifyInstance, FastifyRequest } from 'fastify';
import { agencyOf, fieldErrors, renderPage } from '../../core/http/render.ts';
import { requireUser, setFlash } from '../../core/http/session.ts';
import { retryTime } from '../../core/security/attempts.ts';
import type { FormErrors } from '../../core/views/components.tsx';
import type { ClientAccount } from '../../db/schema.ts';
import { findManager } from '../accounts/accounts.repository.ts';
import { accountSummary, loadOwnAccount } from '../accounts/accounts.service.ts';
import { messageSchema } from './contact.schemas.ts';
import { contactDirectory, sendMessage } from './contact.service.ts';
import { AccountContactPage, ContactPage } from './contact.views.tsx';

/** What was typed, sent back with the errors so nothing is lost (bounded). */
function submitted(body: unknown): { subject: string; body: string } {
  const b = (body ?? {}) as Record<string, unknown>;
  const str = (v: unknown, max: number) => (typeof v === 'string' ? v.slice(0, max) : '');
  return { subject: str(b.subject, 1000), body: str(b.body, 20_000) };
}

export async function contactRoutes(app: FastifyInstance) {
  const { db } = app.deps;

  async function renderAccountContact(
    req: FastifyRequest,
    reply: Parameters<typeof renderPage>[1],
    account: ClientAccount,
    form: { values?: { subject: string; body: string }; errors?: FormErrors; status?: number } = {},
  ) {
    const summary = await accountSummary(app, account);
    const manager = await findManager(db, account.manager_id);
    const agency = await agencyOf(req);
    return renderPage(
      req,
      reply,
      (ctx) => (
        <AccountContactPage
          ctx={ctx}
          account={summary}
          manager={manager ? { name: manager.name, email: manager.email, phone: manager.phone } : null}
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
    const groups = await contactDirectory(app, req.user!.id);
    return renderPage(req, reply, (ctx) => <ContactPage ctx={ctx} agency={agency} groups={groups} />);
  });

  app.get('/comptes/:id/contact', { preHandler: requireUser }, async (req, reply) => {
    const account = await loadOwnAccount(app, req);
    return renderAccountContact(req, reply, account);
  });

  app.post('/comptes/:id/contact', { preHandler: requireUser }, async (req, reply) => {
    const account = await loadOwnAccount(app, req);
    const parsed = messageSchema.safeParse(req.body ?? {});
    if (!parsed.success) {
      return renderAccountContact(req, reply, account, {
        values: submitted(req.body),
        errors: fieldErrors(parsed.error.issues),
        status: 400,
      });
    }
    const result = await sendMessage(app, req, account, req.user!, parsed.data);
    if (!result.ok) {
      return renderAccountContact(req, reply, account, {
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
