import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPlaceholderSender, senderOf } from '../src/adapters/mailer/mailer.ts';
import { setAgency } from '../src/core/agency/agency.repository.ts';
import { frenchSpacing } from '../src/core/views/typography.ts';
import { buildTestApp, type TestApp } from './helpers/app.ts';
import { TestClient } from './helpers/client.ts';
import { addLedger, createUser, seedAccount } from './helpers/factories.ts';
import { loginAs } from './helpers/login.ts';

/*
 * French typography cannot be forgotten: every page and every mail Palier writes is read
 * here, and a breaking space before : ; ! ? » or after « fails the test, naming the page
 * and the words around it.
 */

const ENTITIES: Record<string, string> = {
  '&amp;': '&',
  '&lt;': '<',
  '&gt;': '>',
  '&quot;': '"',
  '&#39;': "'",
  '&#x27;': "'",
  '&nbsp;': '\u00a0',
  '&#160;': '\u00a0',
};

/** Visible text of an HTML page with its spaces as they are (no-break ones kept). */
function visibleText(html: string): string {
  return html
    .replace(/<(script|style|textarea)[\s\S]*?<\/\1>/g, ' ')
    .replace(/<[^>]+>/g, '\n')
    .replace(/&(?:amp|lt|gt|quot|nbsp|#39|#x27|#160);/g, (e) => ENTITIES[e]!);
}

/** Each place where a plain space stands where French wants a no-break one. */
function breakingSpaces(text: string): string[] {
  const found: string[] = [];
  const re = / [:;!?»]|« /g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text))) found.push(JSON.stringify(text.slice(Math.max(0, m.index - 25), m.index + 10)));
  return found;
}

describe('French spacing', () => {
  it('puts the right no-break spaces around ; ! ? : « » and leaves other text alone', () => {
    expect(frenchSpacing('Mot de passe oublié ?')).toBe('Mot de passe oublié\u202f?');
    expect(frenchSpacing('Email : a@b.fr ; « Créez votre espace » !')).toBe(
      'Email\u00a0: a@b.fr\u202f; «\u00a0Créez votre espace\u00a0»\u202f!',
    );
    expect(frenchSpacing('https://palier.test/?jeton=abc 14:35')).toBe('https://palier.test/?jeton=abc 14:35');
    expect(frenchSpacing('déjà\u00a0?')).toBe('déjà\u202f?');
  });
});

describe('the sender of mails', () => {
  it('is the agency’s name with MAIL_FROM’s address, unless MAIL_FROM names itself', () => {
    expect(senderOf('ne-pas-repondre@cabinet.fr', 'Cabinet Exemple')).toEqual({
      name: 'Cabinet Exemple',
      address: 'ne-pas-repondre@cabinet.fr',
    });
    expect(senderOf('Syndic Alpes <contact@alpes.fr>', 'Cabinet Exemple')).toBe('Syndic Alpes <contact@alpes.fr>');
  });

  it('tells a placeholder address from a real one, for the start-up warning', () => {
    expect(isPlaceholderSender('ne-pas-repondre@palier.localhost')).toBe(true);
    expect(isPlaceholderSender('ne-pas-repondre@localhost')).toBe(true);
    expect(isPlaceholderSender('ne-pas-repondre@127.0.0.1')).toBe(true);
    expect(isPlaceholderSender('Cabinet <ne-pas-repondre@cabinet-exemple.fr>')).toBe(false);
  });
});

describe('every page and every mail', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp('sqlite');
    await setAgency(t.db, {
      name: 'Cabinet Exemple',
      address: '1 place Grenette, 38000 Grenoble',
      phone: '04 76 00 00 00',
      email: 'agence@exemple.test',
    });
  });
  afterAll(() => t.close());

  it('writes no breaking space before : ; ! ? » or after «', async () => {
    const copro = await seedAccount(t.db, t.config, { councilRole: 'president' });
    const tenant = await seedAccount(t.db, t.config, { kind: 'locataire' });
    const unclaimed = await seedAccount(t.db, t.config, {});
    await addLedger(t.db, copro.id, [
      { date: '2026-01-15', label: 'Appel de fonds : 1er trimestre !', debit: 137820 },
      { date: '2026-02-01', label: 'Règlement « chèque »', credit: 50000 },
    ]);
    const user = await createUser(t.db, { accountIds: [copro.id, tenant.id] });
    const anonymous = new TestClient(t.app);
    const client = await loginAs(t.app, user.email, user.password);

    const problems: string[] = [];
    const check = (where: string, text: string) => {
      for (const p of breakingSpaces(text)) problems.push(`${where}: ${p}`);
    };
    const page = async (c: TestClient, url: string) => {
      const res = await c.get(url);
      check(`GET ${url} (${res.statusCode})`, visibleText(res.body));
    };

    // Pages seen before signing in, and their refused forms.
    for (const url of [
      '/',
      '/mot-de-passe-oublie',
      '/creer-mon-espace',
      '/nouveau-mot-de-passe?jeton=inconnu',
      '/confirmer-email?jeton=inconnu',
      '/nexiste-pas',
    ])
      await page(anonymous, url);
    for (const [url, fields] of [
      ['/connexion', { email: 'pas-une-adresse', password: '' }],
      ['/connexion', { email: 'inconnu@exemple.test', password: 'Faux12345' }],
      ['/creer-mon-espace', { reference: unclaimed.reference, code: 'mauvais-code' }],
    ] as const) {
      const res = await anonymous.submit(url === '/connexion' ? '/' : url, fields, url);
      check(`POST ${url}`, visibleText(res.body));
    }
    const step1 = await anonymous.submit('/creer-mon-espace', {
      reference: unclaimed.reference,
      code: unclaimed.accessCode,
    });
    await page(anonymous, step1.headers.location as string);

    // Pages of a signed-in person, with each account page.
    for (const url of ['/accueil', '/accueil?onglet=locataire', '/profil', '/contact', '/comptes/ajouter']) {
      await page(client, url);
    }
    for (const id of [copro.id, tenant.id]) {
      for (const suffix of ['extrait', 'extrait?du=2026-02-01', 'extrait?du=31/02/2026', 'payer', 'coordonnees']) {
        await page(client, `/comptes/${id}/${suffix}`);
      }
      await page(client, `/comptes/${id}/contact`);
    }
    await page(client, `/comptes/${copro.id}/conseil-syndical`);
    const refused = await client.submit(`/comptes/${copro.id}/coordonnees`, { phone: 'x' });
    check('POST coordonnees refused', visibleText(refused.body));

    // Actions that send mails: each mail is read below.
    await client.submit(`/comptes/${copro.id}/contact`, { subject: 'Fuite ?', body: 'Bonjour : une fuite !' });
    await client.submit(`/comptes/${copro.id}/coordonnees`, {
      civility: 'M.',
      lastName: 'DURAND',
      firstName: 'Paul',
      email: 'paul@exemple.test',
      phone: '06 11 22 33 44',
      address: '3 rue Neuve',
      postalCode: '38000',
      city: 'GRENOBLE',
    });
    await client.submit(
      '/profil',
      { newEmail: 'nouvelle@exemple.test', emailPassword: user.password },
      '/profil/email',
    );
    await page(client, '/profil');
    await anonymous.submit('/mot-de-passe-oublie', { email: user.email });
    await client.submit(
      '/profil',
      { currentPassword: user.password, newPassword: 'Autre-Mot-2031', confirmPassword: 'Autre-Mot-2031' },
      '/profil/mot-de-passe',
    );
    await t.smtp.waitFor(user.email, (m) => m.subject.includes('mot de passe a été modifié'));
    await t.smtp.waitFor(user.email, (m) => m.subject.includes('nouveau mot de passe'));
    // Closing the space last: its page, a refused password, the login page's flash and the mail.
    await page(client, '/profil/fermeture');
    const refusedClose = await client.submit('/profil/fermeture', { password: 'Faux12345' });
    check(`POST /profil/fermeture (${refusedClose.statusCode})`, visibleText(refusedClose.body));
    const closed = await client.submit('/profil/fermeture', { password: 'Autre-Mot-2031' });
    check('GET / after closing', visibleText((await client.follow(closed)).body));
    await t.smtp.waitFor(user.email, (m) => m.subject.includes('espace client est fermé'));

    expect(t.smtp.mails.length).toBeGreaterThanOrEqual(5);
    for (const m of t.smtp.mails) {
      // The sender is the agency, by name, not a product the client never heard of.
      expect(m.raw).toMatch(/^From: "?Cabinet Exemple"? <ne-pas-repondre@palier\.test>/m);
      check(`mail « ${m.subject} » (texte)`, m.text);
      check(`mail « ${m.subject} » (HTML)`, visibleText(m.html));
      check(`mail « ${m.subject} » (objet)`, m.subject);
    }
    expect(problems).toEqual([]);
  });
});
