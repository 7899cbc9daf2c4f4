import type { FastifyInstance } from 'fastify';
import { fieldErrors, renderPage } from '../../core/http/render.ts';
import { endSession, setFlash, startSession } from '../../core/http/session.ts';
import { securityEvent } from '../../core/audit.ts';
import { forgotSchema, linkTokenSchema, loginSchema, resetSchema } from './auth.schemas.ts';
import { findValidToken } from '../users/tokens.repository.ts';
import { confirmEmail, login, requestPasswordReset, resetPassword } from './auth.service.ts';
import { EmailConfirmedPage, ForgotPage, LoginPage, ResetPage } from './auth.views.tsx';

const LOGIN_FAILED = 'Email ou mot de passe incorrect.';
const LOGIN_LOCKED =
  'Trop de tentatives de connexion ont échoué. Pour votre sécurité, réessayez dans un quart d’heure ou choisissez un nouveau mot de passe avec « Mot de passe oublié ? ».';

export async function authRoutes(app: FastifyInstance) {
  app.get('/', async (req, reply) => {
    if (req.user) return reply.redirect('/accueil', 303);
    return renderPage(req, reply, (ctx) => <LoginPage ctx={ctx} />);
  });

  app.post('/connexion', async (req, reply) => {
    const parsed = loginSchema.safeParse(req.body);
    if (!parsed.success) {
      const email =
        typeof (req.body as Record<string, unknown>)?.email === 'string'
          ? String((req.body as Record<string, unknown>).email)
          : '';
      return renderPage(
        req,
        reply,
        (ctx) => <LoginPage ctx={ctx} email={email} errors={fieldErrors(parsed.error.issues)} />,
        400,
      );
    }
    const result = await login(app, req, parsed.data.email, parsed.data.password);
    if (!result.ok) {
      const message = result.locked ? LOGIN_LOCKED : LOGIN_FAILED;
      return renderPage(
        req,
        reply,
        (ctx) => <LoginPage ctx={ctx} email={parsed.data.email} errors={{ _form: message }} />,
        result.locked ? 429 : 401,
      );
    }
    await startSession(app, req, reply, result.userId);
    return reply.redirect('/accueil', 303);
  });

  app.post('/deconnexion', async (req, reply) => {
    if (req.user) await securityEvent(req, app.deps.db, { action: 'logout', outcome: 'success', userId: req.user.id });
    await endSession(app, req, reply);
    setFlash(reply, { kind: 'success', message: 'Vous êtes déconnecté. À bientôt !' });
    return reply.redirect('/', 303);
  });

  app.get('/mot-de-passe-oublie', async (req, reply) => renderPage(req, reply, (ctx) => <ForgotPage ctx={ctx} />));

  app.post('/mot-de-passe-oublie', async (req, reply) => {
    const parsed = forgotSchema.safeParse(req.body);
    if (!parsed.success) {
      return renderPage(req, reply, (ctx) => <ForgotPage ctx={ctx} errors={fieldErrors(parsed.error.issues)} />, 400);
    }
    await requestPasswordReset(app, req, parsed.data.email);
    return renderPage(req, reply, (ctx) => <ForgotPage ctx={ctx} email={parsed.data.email} sent />);
  });

  app.get('/nouveau-mot-de-passe', async (req, reply) => {
    const parsed = linkTokenSchema.safeParse((req.query as Record<string, unknown>).jeton);
    const token = parsed.success ? parsed.data : '';
    const valid = token ? await findValidToken(app.deps.db, token, 'reset_password', app.deps.now()) : undefined;
    // The token stays out of Referer headers of links on the page.
    reply.header('referrer-policy', 'no-referrer');
    return renderPage(req, reply, (ctx) => <ResetPage ctx={ctx} token={token} invalid={!valid} />, valid ? 200 : 400);
  });

  app.post('/nouveau-mot-de-passe', async (req, reply) => {
    reply.header('referrer-policy', 'no-referrer');
    const body = (req.body ?? {}) as Record<string, unknown>;
    // A missing, mangled or overlong token is a link that no longer works, whatever was typed.
    const tokenParsed = linkTokenSchema.safeParse(body.token);
    if (!tokenParsed.success) return renderPage(req, reply, (ctx) => <ResetPage ctx={ctx} token="" invalid />, 400);
    const token = tokenParsed.data;
    const parsed = resetSchema.safeParse(body);
    if (!parsed.success) {
      return renderPage(
        req,
        reply,
        (ctx) => <ResetPage ctx={ctx} token={token} errors={fieldErrors(parsed.error.issues)} />,
        400,
      );
    }
    const result = await resetPassword(app, req, token, parsed.data.password, parsed.data.confirm);
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
    await endSession(app, req, reply);
    setFlash(reply, {
      kind: 'success',
      message: 'Votre mot de passe a été modifié. Connectez-vous avec votre nouveau mot de passe.',
    });
    return reply.redirect('/', 303);
  });

  app.get('/confirmer-email', async (req, reply) => {
    const token = linkTokenSchema.safeParse((req.query as Record<string, unknown>).jeton);
    const result = token.success ? await confirmEmail(app, req, token.data) : { ok: false as const };
    reply.header('referrer-policy', 'no-referrer');
    return renderPage(req, reply, (ctx) => <EmailConfirmedPage ctx={ctx} ok={result.ok} />, result.ok ? 200 : 400);
  });
}
