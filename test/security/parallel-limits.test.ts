import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../helpers/app.ts';
import { csrfTokenOf } from '../helpers/client.ts';
import { dialects } from '../helpers/db.ts';
import { createManager, createUser, seedAccount } from '../helpers/factories.ts';
import { loginAs } from '../helpers/login.ts';
import { drainOutbox, mailsTo } from './support.ts';

/**
 * A limit checked before and recorded after the work lets parallel requests all pass the
 * check. Messages to the gestionnaire (10 an hour) and confirmation resends (3 an hour)
 * must hold under a burst of simultaneous requests, on both databases.
 */
describe.each(dialects)('Security: limits under parallel requests (%s)', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp(dialect);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('40 simultaneous messages to the gestionnaire: at most 10 stored and 10 mailed', async () => {
    const manager = await createManager(t.db, { email: `gestion-${dialect}-${Date.now()}@agence.test` });
    const account = await seedAccount(t.db, t.config, { managerId: manager.id });
    const user = await createUser(t.db, { accountIds: [account.id] });
    const me = await loginAs(t.app, user.email, user.password);
    const url = `/comptes/${account.id}/contact`;
    const csrf = csrfTokenOf((await me.get(url)).body);

    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        me.post(url, { subject: `Demande ${i}`, body: `Message numéro ${i}.` }, { csrf }),
      ),
    );
    const statuses = answers.map((a) => a.statusCode);
    const accepted = statuses.filter((s) => s === 303).length;
    expect(statuses.filter((s) => s !== 303 && s !== 429)).toEqual([]);

    const stored = await t.db.selectFrom('messages').select('id').where('account_id', '=', account.id).execute();
    expect(stored.length).toBeLessThanOrEqual(10);
    expect(stored.length).toBe(accepted);
    expect(accepted).toBeGreaterThan(0);

    await drainOutbox(t);
    expect(mailsTo(t, manager.email).length).toBeLessThanOrEqual(10);
    expect(mailsTo(t, manager.email).length).toBe(accepted);
    expect(mailsTo(t, user.email, 'Votre message').length).toBe(accepted);
  });

  it('10 simultaneous « Renvoyer l’email de confirmation »: at most 3 mails', async () => {
    const account = await seedAccount(t.db, t.config);
    const user = await createUser(t.db, { accountIds: [account.id] });
    await t.db.updateTable('users').set({ email_verified_at: null }).where('id', '=', user.id).execute();
    const me = await loginAs(t.app, user.email, user.password);
    const csrf = csrfTokenOf((await me.get('/profil')).body);

    const answers = await Promise.all(
      Array.from({ length: 10 }, () => me.post('/profil/email/confirmation', {}, { csrf })),
    );
    expect(answers.map((a) => a.statusCode).filter((s) => s !== 303)).toEqual([]);

    await drainOutbox(t);
    const sent = mailsTo(t, user.email, 'Confirmez votre adresse');
    expect(sent.length).toBeLessThanOrEqual(3);
    expect(sent.length).toBeGreaterThan(0);
  });
});
