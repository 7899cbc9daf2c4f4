import { accountTitle } from '../accounts/accounts.presenter.ts';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { bodyField, bodyInput, echoForm, queryField } from '../../core/http/input.ts';
import { fieldErrors, renderPage } from '../../core/http/render.ts';
import { requireUser, setFlash, startSession } from '../../core/http/session.ts';
import { retryTime } from '../../core/security/attempts.ts';
import { codeSchema, PROFILE_LABELS, profileSchema, ticketSchema } from './claim.schemas.ts';
import {
  accountOfTicket,
  attachAccount,
  checkAccessCode,
  claimAccount,
  issueTicket,
  prefillFrom,
} from './claim.service.ts';
import {
  AlreadyLoggedInPage,
  AttachPage,
  ClaimStep1Page,
  ClaimStep2Page,
  TicketInvalidPage,
  type ProfileValues,
} from './claim.views.tsx';

/** One answer for a wrong code, an unknown reference, a used code and a superseded one. */
export const CODE_REFUSED =
  'Identifiant ou mot de passe incorrect. Vérifiez-les sur votre dernier appel de fonds : ce mot de passe ne sert qu’une fois et seul le plus récent est valable. En cas de doute, l’agence peut vous en donner un nouveau.';

/** Same words whether the reference exists or not; only the time depends on the attempts made. */
export function codeLocked(until: Date): string {
  return `Trop d’essais ont échoué. Pour votre sécurité, la saisie est bloquée : réessayez à partir de ${retryTime(until)}. En cas de doute, l’agence peut vous donner un nouveau mot de passe.`;
}

/** What was typed at step 2, shown again with the errors (never the passwords). */
function profileValues(body: unknown): ProfileValues {
  return echoForm(body, Object.keys(PROFILE_LABELS));
}

export async function claimRoutes(app: FastifyInstance) {
  const alreadyLoggedIn = (req: FastifyRequest, reply: FastifyReply) =>
    renderPage(req, reply, (ctx) => <AlreadyLoggedInPage ctx={ctx} />);

  app.get('/creer-mon-espace', async (req, reply) => {
    if (req.user) return alreadyLoggedIn(req, reply);
    return renderPage(req, reply, (ctx) => <ClaimStep1Page ctx={ctx} />);
  });

  app.post('/creer-mon-espace', async (req, reply) => {
    if (req.user) return alreadyLoggedIn(req, reply);
    const { reference } = echoForm(req.body, ['reference']);
    const parsed = bodyInput(req, codeSchema);
    if (!parsed.success) {
      return renderPage(
        req,
        reply,
        (ctx) => <ClaimStep1Page ctx={ctx} reference={reference} errors={fieldErrors(parsed.error.issues)} />,
        400,
      );
    }
    const check = await checkAccessCode(req.ctx, { ...parsed.data, action: 'claim.code' });
    if (!check.ok) {
      const message = check.lockedUntil ? codeLocked(check.lockedUntil) : CODE_REFUSED;
      return renderPage(
        req,
        reply,
        (ctx) => <ClaimStep1Page ctx={ctx} reference={parsed.data.reference} errors={{ _form: message }} />,
        check.lockedUntil ? 429 : 401,
      );
    }
    const ticket = await issueTicket(req.ctx, check.account.id);
    return reply.redirect(`/creer-mon-espace/etape-2?ticket=${ticket}`, 303);
  });

  app.get('/creer-mon-espace/etape-2', async (req, reply) => {
    if (req.user) return alreadyLoggedIn(req, reply);
    // The ticket stays out of Referer headers of links on the page.
    reply.header('referrer-policy', 'no-referrer');
    const ticket = ticketSchema.safeParse(queryField(req, 'ticket'));
    const account = ticket.success ? await accountOfTicket(req.ctx, ticket.data) : undefined;
    if (!ticket.success || !account) return renderPage(req, reply, (ctx) => <TicketInvalidPage ctx={ctx} />, 400);
    return renderPage(req, reply, (ctx) => (
      <ClaimStep2Page ctx={ctx} ticket={ticket.data} reference={account.reference} values={prefillFrom(account)} />
    ));
  });

  app.post('/creer-mon-espace/etape-2', async (req, reply) => {
    if (req.user) return alreadyLoggedIn(req, reply);
    reply.header('referrer-policy', 'no-referrer');
    const ticket = ticketSchema.safeParse(bodyField(req, 'ticket'));
    const account = ticket.success ? await accountOfTicket(req.ctx, ticket.data) : undefined;
    if (!ticket.success || !account)
      return renderPage(req, reply, (ctx) => <TicketInvalidPage ctx={ctx} afterSubmit />, 400);

    const values = profileValues(req.body);
    const form = (status: number, errors?: Record<string, string>, emailTaken?: boolean) =>
      renderPage(
        req,
        reply,
        (ctx) => (
          <ClaimStep2Page
            ctx={ctx}
            ticket={ticket.data}
            reference={account.reference}
            values={values}
            errors={errors}
            emailTaken={emailTaken}
          />
        ),
        status,
      );
    const parsed = bodyInput(req, profileSchema);
    if (!parsed.success) return form(400, fieldErrors(parsed.error.issues));

    const result = await claimAccount(req.ctx, account, parsed.data);
    if (!result.ok) {
      if (result.reason === 'errors') return form(400, result.errors);
      if (result.reason === 'email_taken') return form(409, undefined, true);
      return renderPage(req, reply, (ctx) => <TicketInvalidPage ctx={ctx} afterSubmit />, 400);
    }
    await startSession(req, reply, result.userId);
    setFlash(reply, {
      kind: 'success',
      message: `Votre compte est désormais créé ! Un email vient d’être envoyé à ${result.email} pour confirmer votre adresse.`,
    });
    return reply.redirect('/accueil', 303);
  });

  app.get('/comptes/ajouter', { preHandler: requireUser }, async (req, reply) =>
    renderPage(req, reply, (ctx) => <AttachPage ctx={ctx} />),
  );

  app.post('/comptes/ajouter', { preHandler: requireUser }, async (req, reply) => {
    const user = req.user!;
    const { reference } = echoForm(req.body, ['reference']);
    const parsed = bodyInput(req, codeSchema);
    if (!parsed.success) {
      return renderPage(
        req,
        reply,
        (ctx) => <AttachPage ctx={ctx} reference={reference} errors={fieldErrors(parsed.error.issues)} />,
        400,
      );
    }
    const result = await attachAccount(req.ctx, user, parsed.data.reference, parsed.data.code);
    if (!result.ok) {
      if (result.reason === 'already_held') {
        return renderPage(
          req,
          reply,
          (ctx) => <AttachPage ctx={ctx} alreadyHeld={accountTitle(result.account)} />,
          409,
        );
      }
      const message = result.lockedUntil ? codeLocked(result.lockedUntil) : CODE_REFUSED;
      return renderPage(
        req,
        reply,
        (ctx) => <AttachPage ctx={ctx} reference={parsed.data.reference} errors={{ _form: message }} />,
        result.lockedUntil ? 429 : 401,
      );
    }
    // More rights than a moment ago: a new session id.
    await startSession(req, reply, user.id);
    setFlash(reply, { kind: 'success', message: `Compte ${accountTitle(result.account)} ajouté à votre espace.` });
    return reply.redirect(`/accueil?onglet=${result.account.kind}`, 303);
  });
}
