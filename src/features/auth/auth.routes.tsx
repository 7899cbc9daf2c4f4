import type { FastifyInstance } from 'fastify';
import { bodyField, bodyInput, echoForm, queryField } from '../../core/http/input.ts';
import { fieldErrors, renderPage } from '../../core/http/render.ts';
import { endSession, setFlash, userAgentOf, useSession } from '../../core/http/session.ts';
import { securityEvent } from '../../core/audit.ts';
import { forgotSchema, linkTokenSchema, loginSchema, resetSchema, returnPath } from './auth.schemas.ts';
import {
  confirmEmail,
  inspectEmailLink,
  isResetLinkValid,
  login,
  requestPasswordReset,
  resetPassword,
} from './auth.service.ts';
import { ConfirmEmailPage, EmailConfirmedPage, ForgotPage, LoginPage, ResetPage } from './auth.views.tsx';

const LOGIN_FAILED = 'Email ou mot de passe incorrect.';
const LOGIN_LOCKED =
  'Trop de tentatives de connexion ont échoué. Pour votre sécurité, réessayez dans un quart d’heure ou choisissez un nouveau mot de passe avec « Mot de passe oublié ? ».';

const REFERENCE_TYPED =
  'Ceci ressemble à l’identifiant imprimé sur votre appel de fonds. Pour une première connexion, cliquez sur « Créez votre espace » ci-dessous : l’identifiant et le mot de passe du courrier y sont demandés. Ensuite, vous vous connecterez ici avec votre adresse email.';

/** A client reference rather than an email: no @, letters and digits with a few separators. */
export function looksLikeReference(typed: string): boolean {
  const v = typed.trim();
  return !v.includes('@') && /^[A-Za-z0-9][A-Za-z0-9 ._/-]{2,29}$/.test(v) && /\d/.test(v);
}

export async function authRoutes(app: FastifyInstance) {
  app.get('/', async (req, reply) => {
    const back = returnPath(queryField(req, 'retour'));
    if (req.user) return reply.redirect(back ?? '/accueil', 303);
    return renderPage(req, reply, (ctx) => <LoginPage ctx={ctx} returnTo={back} />);
  });

  app.post('/connexion', async (req, reply) => {
    const parsed = bodyInput(req, loginSchema);
    const { email, retour } = echoForm(req.body, ['email', 'retour']);
    const back = returnPath(retour);
    if (!parsed.success) {
      const errors = fieldErrors(parsed.error.issues);
      // The paper Identifiant typed where the email goes: the mistake the agency's guide warns about.
      if (looksLikeReference(email)) errors.email = REFERENCE_TYPED;
      return renderPage(
        req,
        reply,
        (ctx) => <LoginPage ctx={ctx} email={email} returnTo={back} errors={errors} />,
        400,
      );
    }
    const result = await login(req.ctx, parsed.data.email, parsed.data.password, userAgentOf(req));
    if (!result.ok) {
      const message = result.locked ? LOGIN_LOCKED : LOGIN_FAILED;
      return renderPage(
        req,
        reply,
        (ctx) => <LoginPage ctx={ctx} email={parsed.data.email} returnTo={back} errors={{ _form: message }} />,
        result.locked ? 429 : 401,
      );
    }
    useSession(req, reply, result.session);
    return reply.redirect(back ?? '/accueil', 303);
  });

  app.post('/deconnexion', async (req, reply) => {
    if (req.user) await securityEvent(req.ctx, { action: 'logout', outcome: 'success' });
    await endSession(req, reply);
    setFlash(reply, { kind: 'success', message: 'Vous êtes déconnecté. À bientôt !' });
    return reply.redirect('/', 303);
  });

  app.get('/mot-de-passe-oublie', async (req, reply) => renderPage(req, reply, (ctx) => <ForgotPage ctx={ctx} />));

  app.post('/mot-de-passe-oublie', async (req, reply) => {
    const parsed = bodyInput(req, forgotSchema);
    if (!parsed.success) {
      return renderPage(req, reply, (ctx) => <ForgotPage ctx={ctx} errors={fieldErrors(parsed.error.issues)} />, 400);
    }
    await requestPasswordReset(req.ctx, parsed.data.email);
    return renderPage(req, reply, (ctx) => <ForgotPage ctx={ctx} email={parsed.data.email} sent />);
  });

  app.get('/nouveau-mot-de-passe', async (req, reply) => {
    const parsed = linkTokenSchema.safeParse(queryField(req, 'jeton'));
    const token = parsed.success ? parsed.data : '';
    const valid = token ? await isResetLinkValid(req.ctx, token) : false;
    // The token stays out of Referer headers of links on the page.
    reply.header('referrer-policy', 'no-referrer');
    return renderPage(req, reply, (ctx) => <ResetPage ctx={ctx} token={token} invalid={!valid} />, valid ? 200 : 400);
  });

  app.post('/nouveau-mot-de-passe', async (req, reply) => {
    reply.header('referrer-policy', 'no-referrer');
    // A missing, mangled or overlong token is a link that no longer works, whatever was typed.
    const tokenParsed = linkTokenSchema.safeParse(bodyField(req, 'token'));
    if (!tokenParsed.success) return renderPage(req, reply, (ctx) => <ResetPage ctx={ctx} token="" invalid />, 400);
    const token = tokenParsed.data;
    const parsed = bodyInput(req, resetSchema);
    if (!parsed.success) {
      return renderPage(
        req,
        reply,
        (ctx) => <ResetPage ctx={ctx} token={token} errors={fieldErrors(parsed.error.issues)} />,
        400,
      );
    }
    const result = await resetPassword(req.ctx, token, parsed.data.password, parsed.data.confirm);
    if (!result.ok) {
      return renderPage(
        req,
        reply,
        (ctx) => (
          <ResetPage
            ctx={ctx}
            token={token}
            invalid={'invalid' in result}
            errors={'errors' in result ? result.errors : undefined}
          />
        ),
        400,
      );
    }
    // Every session ended with the reset, this browser's included: the person logs in again.
    await endSession(req, reply);
    setFlash(reply, {
      kind: 'success',
      message: 'Votre mot de passe a été modifié. Connectez-vous avec votre nouveau mot de passe.',
    });
    return reply.redirect('/', 303);
  });

  // Opening the link changes nothing (mail scanners follow links): the page's button does.
  app.get('/confirmer-email', async (req, reply) => {
    reply.header('referrer-policy', 'no-referrer');
    const token = linkTokenSchema.safeParse(queryField(req, 'jeton'));
    const link = token.success ? await inspectEmailLink(req.ctx, token.data) : { kind: 'invalid' as const };
    if (link.kind === 'invalid') {
      return renderPage(req, reply, (ctx) => <EmailConfirmedPage ctx={ctx} ok={false} />, 400);
    }
    const here = `/confirmer-email?jeton=${token.data}`;
    return renderPage(req, reply, (ctx) => <ConfirmEmailPage ctx={ctx} token={token.data!} link={link} here={here} />);
  });

  app.post('/confirmer-email', async (req, reply) => {
    reply.header('referrer-policy', 'no-referrer');
    const token = linkTokenSchema.safeParse(bodyField(req, 'token'));
    const result = token.success ? await confirmEmail(req.ctx, token.data) : { ok: false as const };
    if (!result.ok && 'needsSignIn' in result && result.needsSignIn) {
      return reply.redirect(`/?retour=${encodeURIComponent(`/confirmer-email?jeton=${token.data}`)}`, 303);
    }
    return renderPage(req, reply, (ctx) => <EmailConfirmedPage ctx={ctx} ok={result.ok} />, result.ok ? 200 : 400);
  });
}
