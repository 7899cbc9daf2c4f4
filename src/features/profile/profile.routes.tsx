import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { bodyInput, echoForm } from '../../core/http/input.ts';
import { fieldErrors, renderPage } from '../../core/http/render.ts';
import { requireUser, setFlash, startSession } from '../../core/http/session.ts';
import { retryTime } from '../../core/security/attempts.ts';
import type { FormErrors } from '../../core/views/components.tsx';
import { emailChangeSchema, passwordChangeSchema, profileSchema } from './profile.schemas.ts';
import {
  cancelEmailChange,
  changePassword,
  loadUser,
  pendingEmail,
  requestEmailChange,
  resendEmailConfirmation,
  updateProfile,
} from './profile.service.ts';
import { ProfilePage, type ProfileDetails } from './profile.views.tsx';

const DETAIL_FIELDS = [
  'civility',
  'lastName',
  'firstName',
  'phone',
  'address',
  'postalCode',
  'city',
  'country',
] as const;

export async function profileRoutes(app: FastifyInstance) {
  /**
   * The profile page, with the stored details or, after a refused details form, what was
   * typed (nothing is lost); errors of whichever form was sent.
   */
  async function renderProfile(
    req: FastifyRequest,
    reply: FastifyReply,
    opts: { typed?: ProfileDetails; newEmail?: string; errors?: FormErrors; status?: number } = {},
  ) {
    const user = await loadUser(req.ctx);
    const pending = await pendingEmail(req.ctx);
    const details: ProfileDetails = opts.typed ?? {
      civility: user.civility,
      lastName: user.last_name,
      firstName: user.first_name,
      phone: user.phone,
      address: user.address,
      postalCode: user.postal_code,
      city: user.city,
      country: user.country,
    };
    return renderPage(
      req,
      reply,
      (ctx) => (
        <ProfilePage
          ctx={ctx}
          details={details}
          storedCivility={user.civility}
          email={user.email}
          emailConfirmed={!!user.email_verified_at}
          pendingEmail={pending}
          newEmail={opts.newEmail}
          errors={opts.errors}
          documentNotice={user.document_notice_since !== null}
        />
      ),
      opts.status ?? 200,
    );
  }

  app.get('/profil', { preHandler: requireUser }, async (req, reply) => renderProfile(req, reply));

  app.post('/profil', { preHandler: requireUser }, async (req, reply) => {
    const user = await loadUser(req.ctx);
    const parsed = bodyInput(req, profileSchema(user.civility));
    if (!parsed.success) {
      return renderProfile(req, reply, {
        typed: echoForm(req.body, DETAIL_FIELDS),
        errors: fieldErrors(parsed.error.issues),
        status: 400,
      });
    }
    const changed = await updateProfile(req.ctx, parsed.data);
    setFlash(
      reply,
      changed.length
        ? { kind: 'success', message: 'Vos informations personnelles sont enregistrées.' }
        : { kind: 'info', message: 'Vous n’avez modifié aucune information.' },
    );
    return reply.redirect('/profil', 303);
  });

  app.post('/profil/email', { preHandler: requireUser }, async (req, reply) => {
    const parsed = bodyInput(req, emailChangeSchema);
    const typed = echoForm(req.body, ['newEmail']).newEmail;
    if (!parsed.success) {
      return renderProfile(req, reply, { newEmail: typed, errors: fieldErrors(parsed.error.issues), status: 400 });
    }
    const result = await requestEmailChange(req.ctx, parsed.data);
    if (!result.ok) return renderProfile(req, reply, { newEmail: typed, errors: result.errors, status: result.status });
    setFlash(reply, {
      kind: 'success',
      message: `Un email de confirmation vient d’être envoyé à ${result.newEmail}. Votre adresse ne changera qu’une fois le lien de ce message suivi (il est valable sept jours).`,
    });
    return reply.redirect('/profil', 303);
  });

  app.post('/profil/email/annulation', { preHandler: requireUser }, async (req, reply) => {
    const cancelled = await cancelEmailChange(req.ctx);
    setFlash(
      reply,
      cancelled
        ? {
            kind: 'success',
            message: 'La demande de changement d’adresse email est annulée : son lien ne fonctionne plus.',
          }
        : { kind: 'info', message: 'Aucun changement d’adresse email n’était en attente.' },
    );
    return reply.redirect('/profil', 303);
  });

  app.post('/profil/email/confirmation', { preHandler: requireUser }, async (req, reply) => {
    const result = await resendEmailConfirmation(req.ctx);
    if (result === 'already') {
      setFlash(reply, { kind: 'info', message: 'Votre adresse email est déjà confirmée.' });
    } else if (result === 'sent') {
      setFlash(reply, {
        kind: 'success',
        message: `Un nouvel email de confirmation vient d’être envoyé à ${req.user!.email}. Pensez à regarder dans vos courriers indésirables.`,
      });
    } else {
      setFlash(reply, {
        kind: 'error',
        message: `Plusieurs emails de confirmation vous ont déjà été envoyés. Vous pourrez en demander un autre après ${retryTime(result.lockedUntil)}.`,
      });
    }
    return reply.redirect('/profil', 303);
  });

  app.post('/profil/mot-de-passe', { preHandler: requireUser }, async (req, reply) => {
    const parsed = bodyInput(req, passwordChangeSchema);
    if (!parsed.success) return renderProfile(req, reply, { errors: fieldErrors(parsed.error.issues), status: 400 });
    const result = await changePassword(req.ctx, parsed.data);
    if (!result.ok) return renderProfile(req, reply, { errors: result.errors, status: result.status });
    // The privileges of this browser were just proved again: a new session id.
    await startSession(req, reply, req.user!.id);
    setFlash(reply, {
      kind: 'success',
      message: 'Votre mot de passe a été modifié. Vos autres sessions ouvertes ont été fermées.',
    });
    return reply.redirect('/profil', 303);
  });
}
