import type { FastifyInstance } from 'fastify';
import { fieldErrors, renderPage } from '../../core/http/render.ts';
import { requireUser, setFlash } from '../../core/http/session.ts';
import { notFound } from '../../core/errors.ts';
import type { ClientAccount } from '../../db/schema.ts';
import { contactChangesOf, councilAccountsOfBuilding } from './accounts.repository.ts';
import { accountSummary, loadOwnAccount } from './accounts.service.ts';
import { presentContactChange } from './accounts.presenter.ts';
import { canSeeCouncil } from './accounts.policies.ts';
import { coordinatesSchema } from './coordinates.schemas.ts';
import { correctCoordinates } from './coordinates.service.ts';
import { presentCouncil } from './council.service.ts';
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
  };
}

/** What was typed, sent back with the errors so nothing is lost (only strings, bounded). */
function submittedValues(body: unknown): CoordinatesValues {
  const b = (body ?? {}) as Record<string, unknown>;
  const out: CoordinatesValues = {};
  for (const k of ['civility', 'lastName', 'firstName', 'email', 'phone', 'address', 'postalCode', 'city'] as const) {
    const v = b[k];
    out[k] = typeof v === 'string' ? v.slice(0, 300) : '';
  }
  return out;
}

export async function accountRoutes(app: FastifyInstance) {
  const { db } = app.deps;

  const history = async (accountId: number) => (await contactChangesOf(db, accountId)).map(presentContactChange);

  app.get('/comptes/:id/coordonnees', { preHandler: requireUser }, async (req, reply) => {
    const account = await loadOwnAccount(app, req);
    const summary = await accountSummary(app, account);
    const changes = await history(account.id);
    return renderPage(req, reply, (ctx) => (
      <CoordinatesPage
        ctx={ctx}
        account={summary}
        values={storedValues(account)}
        storedCivility={account.civility}
        history={changes}
      />
    ));
  });

  app.post('/comptes/:id/coordonnees', { preHandler: requireUser }, async (req, reply) => {
    const account = await loadOwnAccount(app, req);
    const parsed = coordinatesSchema(account.civility).safeParse(req.body ?? {});
    if (!parsed.success) {
      const summary = await accountSummary(app, account);
      const changes = await history(account.id);
      return renderPage(
        req,
        reply,
        (ctx) => (
          <CoordinatesPage
            ctx={ctx}
            account={summary}
            values={submittedValues(req.body)}
            storedCivility={account.civility}
            errors={fieldErrors(parsed.error.issues)}
            history={changes}
          />
        ),
        400,
      );
    }
    const result = await correctCoordinates(app, req, account, req.user!, parsed.data);
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
    const account = await loadOwnAccount(app, req);
    // A tenant's or a landlord's account has no council to show: same answer as an unknown page.
    if (!canSeeCouncil(account)) throw notFound();
    const summary = await accountSummary(app, account);
    const rows = account.building_id === null ? [] : await councilAccountsOfBuilding(db, account.building_id);
    const members = presentCouncil(rows);
    return renderPage(req, reply, (ctx) => <CouncilPage ctx={ctx} account={summary} members={members} />);
  });
}
