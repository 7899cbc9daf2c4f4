import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../../../test/helpers/app.ts';
import { textOf } from '../../../test/helpers/client.ts';
import { dialects } from '../../../test/helpers/db.ts';
import { createUser, seedAccount } from '../../../test/helpers/factories.ts';
import { loginAs } from '../../../test/helpers/login.ts';
import { agencyIdentity } from '../../core/agency/agency.ts';
import { createContext } from '../../core/context.ts';
import { ImportError } from '../imports/import-error.ts';
import { describeReferentielSummary } from '../imports/imports.presenter.ts';
import { importReferentiel } from '../imports/imports.service.ts';
import { pendingChangesToCsv } from './accounts.presenter.ts';
import { exportPendingContactChanges, pendingContactChanges } from './coordinates.service.ts';

/** The form as the page shows it (the agency's values), with some fields changed. */
function form(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    civility: 'M.',
    lastName: 'DURAND',
    firstName: 'Paul',
    email: 'paul.durand@exemple.test',
    phone: '06 12 34 56 78',
    address: '12 rue des Alpes',
    postalCode: '38000',
    city: 'GRENOBLE',
    country: 'France',
    ...overrides,
  };
}

/** A référentiel row for the account, as the agency's software exports it. */
function referentiel(reference: string, o: { phone?: string; address?: string; city?: string } = {}): Buffer {
  return Buffer.from(
    [
      'type;reference;civilite;nom;prenom;email;telephone;adresse;code_postal;ville',
      `copropriétaire;${reference};M.;DURAND;Paul;paul.durand@exemple.test;${o.phone ?? '06 12 34 56 78'};${
        o.address ?? '12 rue des Alpes'
      };38000;${o.city ?? 'GRENOBLE'}`,
    ].join('\n'),
  );
}

describe.each(dialects)('client corrections and the référentiel import (%s)', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp(dialect);
  });
  afterAll(async () => {
    await t?.close();
  });

  const staff = () =>
    createContext({
      db: t.db,
      config: t.config,
      agency: agencyIdentity(t.db),
      actor: { kind: 'staff', name: 'cli', ip: null },
    });
  const accountRow = (id: number) =>
    t.db.selectFrom('client_accounts').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  const pendingOf = async (id: number) =>
    (await pendingContactChanges(staff())).filter((p) => p.accountId === id).map((p) => [p.field, p.newValue]);

  /** An account whose owner changed the phone in « Mes coordonnées ». */
  async function phoneChanged() {
    const account = await seedAccount(t.db, t.config, { email: 'paul.durand@exemple.test' });
    const user = await createUser(t.db, { accountIds: [account.id] });
    const client = await loginAs(t.app, user.email, user.password);
    const res = await client.submit(`/comptes/${account.id}/coordonnees`, form({ phone: '07 11 22 33 44' }));
    expect(res.statusCode).toBe(303);
    return { account, user };
  }

  it('keeps the phone a client changed when the old file is imported, updates the rest and says so', async () => {
    const { account } = await phoneChanged();
    expect(await pendingOf(account.id)).toEqual([['phone', '07 11 22 33 44']]);

    const summary = await importReferentiel(
      t.db,
      t.config,
      referentiel(account.reference, { address: '3 place Grenette' }),
    );

    expect(await accountRow(account.id)).toMatchObject({ phone: '07 11 22 33 44', address: '3 place Grenette' });
    expect(summary.accountsUpdated).toBe(1);
    const text = describeReferentielSummary(summary).join('\n');
    expect(text).toMatch(
      new RegExp(
        `Compte ${account.reference}\u00a0: téléphone laissé tel que le client l’a corrigé \\(modification du \\d{1,2}(er)? \\p{L}+ \\d{4} en attente\\)`,
        'u',
      ),
    );
    expect(await pendingOf(account.id)).toEqual([['phone', '07 11 22 33 44']]);
  });

  it('no longer holds the field once a file brings the client’s value', async () => {
    const { account } = await phoneChanged();
    const summary = await importReferentiel(
      t.db,
      t.config,
      referentiel(account.reference, { phone: '07 11 22 33 44' }),
    );
    expect(summary.clientChangesTakenIn).toBe(1);
    expect(summary.keptClientChanges).toEqual([]);
    expect(await pendingOf(account.id)).toEqual([]);

    // The agency's software is the truth again: its next change goes through.
    await importReferentiel(t.db, t.config, referentiel(account.reference, { phone: '04 76 00 00 00' }));
    expect((await accountRow(account.id)).phone).toBe('04 76 00 00 00');
  });

  it('exports the pending corrections; once marked handled, the next import overwrites them', async () => {
    const { account, user } = await phoneChanged();
    const { changes, handled } = await exportPendingContactChanges(staff(), { markHandled: true });
    const mine = changes.filter((c) => c.accountId === account.id);
    expect(mine).toMatchObject([
      { reference: account.reference, field: 'phone', oldValue: '06 12 34 56 78', newValue: '07 11 22 33 44' },
    ]);
    expect(mine[0]!.client).toContain(user.email);
    expect(handled).toBeGreaterThanOrEqual(1);
    const csv = pendingChangesToCsv(mine);
    expect(csv.startsWith('\ufeffreference;champ;ancienne_valeur;nouvelle_valeur;date;client\r\n')).toBe(true);
    expect(csv).toContain(`${account.reference};Téléphone;06 12 34 56 78;07 11 22 33 44;`);
    expect(await pendingOf(account.id)).toEqual([]);
    const audit = await t.db
      .selectFrom('audit_events')
      .select(['action', 'details_json'])
      .where('action', 'in', ['contact_changes.export', 'contact_changes.handled'])
      .execute();
    expect(audit.map((a) => a.action)).toEqual(
      expect.arrayContaining(['contact_changes.export', 'contact_changes.handled']),
    );

    // The agency decided: the old value in its file wins now.
    const summary = await importReferentiel(t.db, t.config, referentiel(account.reference));
    expect((await accountRow(account.id)).phone).toBe('06 12 34 56 78');
    expect(summary.keptClientChanges).toEqual([]);
  });

  it('without --marquer-traitees the corrections stay pending', async () => {
    const { account } = await phoneChanged();
    const { changes, handled } = await exportPendingContactChanges(staff(), { markHandled: false });
    expect(changes.some((c) => c.accountId === account.id)).toBe(true);
    expect(handled).toBe(0);
    await importReferentiel(t.db, t.config, referentiel(account.reference));
    expect((await accountRow(account.id)).phone).toBe('07 11 22 33 44');
  });

  it('tells the client on « Mes coordonnées » which corrections the agency has not taken in yet', async () => {
    const { account, user } = await phoneChanged();
    const client = await loginAs(t.app, user.email, user.password);
    const page = await client.get(`/comptes/${account.id}/coordonnees`);
    expect(textOf(page.body)).toContain('Pas encore reporté par l’agence dans son logiciel : Téléphone.');
    await importReferentiel(t.db, t.config, referentiel(account.reference, { phone: '07 11 22 33 44' }));
    const after = await client.get(`/comptes/${account.id}/coordonnees`);
    expect(textOf(after.body)).not.toContain('Pas encore reporté');
  });

  it('a field corrected back to the agency’s value is no longer pending', async () => {
    const { account, user } = await phoneChanged();
    const client = await loginAs(t.app, user.email, user.password);
    const res = await client.submit(`/comptes/${account.id}/coordonnees`, form({ phone: '06 12 34 56 78' }));
    expect(res.statusCode).toBe(303);
    expect(await pendingOf(account.id)).toEqual([]);
  });

  it('stores the country the référentiel gives in « pays », France as none', async () => {
    const ref = `P${Date.now()}`;
    const csv = (pays: string) =>
      Buffer.from(`type;reference;nom;code_postal;ville;pays\nlocataire;${ref};DUPONT;1000;Bruxelles;${pays}\n`);
    await importReferentiel(t.db, t.config, csv('Belgique'));
    const row = () =>
      t.db.selectFrom('client_accounts').selectAll().where('reference', '=', ref).executeTakeFirstOrThrow();
    expect(await row()).toMatchObject({ postal_code: '1000', country: 'Belgique' });
    await importReferentiel(t.db, t.config, csv('FRANCE'));
    expect((await row()).country).toBeNull();
  });

  it('a refused file changes nothing, pending corrections included', async () => {
    const { account } = await phoneChanged();
    const bad = Buffer.concat([
      referentiel(account.reference, { phone: '07 11 22 33 44' }),
      Buffer.from('\nlocataire;;X'),
    ]);
    await expect(importReferentiel(t.db, t.config, bad)).rejects.toBeInstanceOf(ImportError);
    expect(await pendingOf(account.id)).toEqual([['phone', '07 11 22 33 44']]);
  });
});
