import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { bodyInput, echoForm, idParam, routeParams } from '../../core/http/input.ts';
import { fieldErrors, renderPage } from '../../core/http/render.ts';
import { requireUser, setFlash } from '../../core/http/session.ts';
import type { ClientAccount } from '../../db/schema.ts';
import { accountSummary, loadAccount } from './accounts.service.ts';
import { presentContactChange } from './accounts.presenter.ts';
import { coordinatesSchema } from './coordinates.schemas.ts';
import { contactHistory, correctCoordinates, pendingFieldLabels } from './coordinates.service.ts';
import { councilOf, presentCouncil } from './council.service.ts';
import { CoordinatesPage, CouncilPage, type CoordinatesValues } from './accounts.views.tsx';

function storedValues(a: ClientAccount): CoordinatesValues {
  return {
    civility: a.civility,
    lastName: a.last_name,
    firstName: a.first_name,
    email: a.email,
    phone: a.phone,
    address: a.address,
    postalCode: a.postal_code,
    city: a.city,
    country: a.country,
  };
}

const COORDINATE_FIELDS = [
  'civility',
  'lastName',
  'firstName',
  'email',
  'phone',
  'address',
  'postalCode',
  'city',
  'country',
] as const;

const accountParams = z.object({ id: idParam });

export async function accountRoutes(app: FastifyInstance) {
  app.get('/comptes/:id/coordonnees', { preHandler: requireUser }, async (req, reply) => {
    const { id } = routeParams(req, accountParams);
    const target = await loadAccount(req.ctx, id, 'coordinates');
    const { account } = target;
    const summary = accountSummary(target);
    const changes = (await contactHistory(req.ctx, account.id)).map(presentContactChange);
    const pending = await pendingFieldLabels(req.ctx, account.id);
    return renderPage(req, reply, (ctx) => (
      <CoordinatesPage
        ctx={ctx}
        account={summary}
        values={storedValues(account)}
        storedCivility={account.civility}
        history={changes}
        pending={pending}
      />
    ));
  });

  app.post('/comptes/:id/coordonnees', { preHandler: requireUser }, async (req, reply) => {
    const { id } = routeParams(req, accountParams);
    const target = await loadAccount(req.ctx, id, 'coordinates');
    const { account } = target;
    const parsed = bodyInput(req, coordinatesSchema(account.civility));
    if (!parsed.success) {
      const summary = accountSummary(target);
      const changes = (await contactHistory(req.ctx, account.id)).map(presentContactChange);
      const pending = await pendingFieldLabels(req.ctx, account.id);
      return renderPage(
        req,
        reply,
        (ctx) => (
          <CoordinatesPage
            ctx={ctx}
            account={summary}
            values={echoForm(req.body, COORDINATE_FIELDS)}
            storedCivility={account.civility}
            errors={fieldErrors(parsed.error.issues)}
            history={changes}
            pending={pending}
          />
        ),
        400,
      );
    }
    const result = await correctCoordinates(req.ctx, target, parsed.data);
    if (!result.changed) {
      setFlash(reply, { kind: 'info', message: 'Vous n’avez modifié aucune coordonnée : rien n’a été transmis.' });
    } else if (result.mailed) {
      setFlash(reply, { kind: 'success', message: 'Vos coordonnées ont été transmises à votre gestionnaire.' });
    } else {
      setFlash(reply, {
        kind: 'info',
        message:
          'Vos coordonnées sont enregistrées, mais elles n’ont pas pu être transmises par email : ni votre gestionnaire ni l’agence n’ont encore d’adresse email connue. Signalez la modification à l’agence par téléphone.',
      });
    }
    return reply.redirect(`/comptes/${account.id}/coordonnees`, 303);
  });

  app.get('/comptes/:id/conseil-syndical', { preHandler: requireUser }, async (req, reply) => {
    const { id } = routeParams(req, accountParams);
    // A tenant's or a landlord's account has no council to show: same answer as an unknown page.
    const target = await loadAccount(req.ctx, id, 'council');
    const summary = accountSummary(target);
    const members = presentCouncil(await councilOf(req.ctx, target));
    return renderPage(req, reply, (ctx) => <CouncilPage ctx={ctx} account={summary} members={members} />);
  });
}
