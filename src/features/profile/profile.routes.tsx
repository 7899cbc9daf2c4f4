import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { fieldErrors, renderPage } from '../../core/http/render.ts';
import { requireUser, setFlash } from '../../core/http/session.ts';
import { retryTime } from '../../core/security/attempts.ts';
import type { FormErrors } from '../../core/views/components.tsx';
import { findUserById } from '../users/users.repository.ts';
import { pendingEmailChange } from './profile.repository.ts';
import { emailChangeSchema, passwordChangeSchema, profileSchema } from './profile.schemas.ts';
import { changePassword, requestEmailChange, resendEmailConfirmation, updateProfile } from './profile.service.ts';
import { ProfilePage, type ProfileDetails } from './profile.views.tsx';

function str(body: unknown, key: string, max = 300): string {
  const v = ((body ?? {}) as Record<string, unknown>)[key];
  return typeof v === 'string' ? v.slice(0, max) : '';
}

export async function profileRoutes(app: FastifyInstance) {
  const { db } = app.deps;

  /**
   * The profile page, with the stored details or, after a refused details form, what was
   * typed (nothing is lost); errors of whichever form was sent.
   */
  async function renderProfile(
    req: FastifyRequest,
    reply: FastifyReply,
    opts: { typed?: ProfileDetails; newEmail?: string; errors?: FormErrors; status?: number } = {},
  ) {
    const user = await findUserById(db, req.user!.id);
    if (!user) throw new Error('user of a live session not found');
    const pending = await pendingEmailChange(db, user.id, app.deps.now());
    const details: ProfileDetails = opts.typed ?? {
      civility: user.civility,
      lastName: user.last_name,
      firstName: user.first_name,
      phone: user.phone,
      address: user.address,
      postalCode: user.postal_code,
      city: user.city,
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
          pendingEmail={pending?.new_email ?? null}
          newEmail={opts.newEmail}
          errors={opts.errors}
        />
      ),
      opts.status ?? 200,
    );
  }

  app.get('/profil', { preHandler: requireUser }, async (req, reply) => renderProfile(req, reply));

  app.post('/profil', { preHandler: requireUser }, async (req, reply) => {
    const user = await findUserById(db, req.user!.id);
    const parsed = profileSchema(user?.civility ?? null).safeParse(req.body ?? {});
    if (!parsed.success) {
      const b = req.body;
      return renderProfile(req, reply, {
        typed: {
          civility: str(b, 'civility'),
          lastName: str(b, 'lastName'),
          firstName: str(b, 'firstName'),
          phone: str(b, 'phone'),
          address: str(b, 'address'),
          postalCode: str(b, 'postalCode'),
          city: str(b, 'city'),
        },
        errors: fieldErrors(parsed.error.issues),
        status: 400,
      });
    }
    const changed = await updateProfile(app, req, req.user!.id, parsed.data);
    setFlash(
      reply,
      changed.length
        ? { kind: 'success', message: 'Vos informations personnelles sont enregistrées.' }
        : { kind: 'info', message: 'Vous n’avez modifié aucune information.' },
    );
    return reply.redirect('/profil', 303);
  });

  app.post('/profil/email', { preHandler: requireUser }, async (req, reply) => {
    const parsed = emailChangeSchema.safeParse(req.body ?? {});
    const typed = str(req.body, 'newEmail');
    if (!parsed.success) {
      return renderProfile(req, reply, { newEmail: typed, errors: fieldErrors(parsed.error.issues), status: 400 });
    }
    const result = await requestEmailChange(app, req, req.user!.id, parsed.data);
    if (!result.ok) return renderProfile(req, reply, { newEmail: typed, errors: result.errors, status: result.status });
    setFlash(reply, {
      kind: 'success',
      message: `Un email de confirmation vient d’être envoyé à ${result.newEmail}. Votre adresse ne changera qu’une fois le lien de ce message suivi (il est valable sept jours).`,
    });
    return reply.redirect('/profil', 303);
  });

  app.post('/profil/email/confirmation', { preHandler: requireUser }, async (req, reply) => {
    const result = await resendEmailConfirmation(app, req, req.user!.id);
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
    const parsed = passwordChangeSchema.safeParse(req.body ?? {});
    if (!parsed.success) return renderProfile(req, reply, { errors: fieldErrors(parsed.error.issues), status: 400 });
    const result = await changePassword(app, req, reply, req.user!, parsed.data);
    if (!result.ok) return renderProfile(req, reply, { errors: result.errors, status: result.status });
    setFlash(reply, {
      kind: 'success',
      message: 'Votre mot de passe a été modifié. Vos autres sessions ouvertes ont été fermées.',
    });
    return reply.redirect('/profil', 303);
  });
}
