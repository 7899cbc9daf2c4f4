import { enqueueMail } from '../../adapters/mailer/outbox.ts';
import { greeting, renderMail } from '../../adapters/mailer/templates.tsx';
import { clientId, inTransaction, type Ctx } from '../../core/context.ts';
import { formatDate, todayInParis } from '../../core/format.ts';
import { accountTitle } from '../accounts/accounts.presenter.ts';
import { SPACE_LABELS } from './categories.ts';
import {
  accountsOfUsers,
  anyoneWantsNotices,
  documentsPublishedSince,
  hasPendingJob,
  markNoticeSent,
  setUserDocumentNotice,
  usersWantingNotices,
} from './documents.repository.ts';
import { canSeeDocument } from './documents.policies.ts';
import { spaceHref } from './documents.presenter.ts';

/** The job that sends the day's notices, then plans the next day's. */
export const DOCUMENT_NOTICES_JOB = 'documents.notices';

/** Notices leave in the morning, Paris time, with the documents published since the last one. */
export const NOTICE_HOUR_PARIS = 7;

/**
 * The Profil checkbox. Turning it on starts the window now: the first notice lists only
 * documents published from now on, not every document already there.
 */
export async function setDocumentNotice(ctx: Ctx, on: boolean): Promise<void> {
  await inTransaction(ctx, async (trx) => {
    await setUserDocumentNotice(trx.db, clientId(ctx), on ? ctx.now().toISOString() : null);
    if (on) await planDocumentNotices(trx);
  });
}

/**
 * Mails each person who asked for it the current documents they may see that were
 * published since their last notice; nothing when there is none. At most one mail per person
 * and per day (Paris): someone already told today is left for tomorrow, so running the job
 * twice sends nothing more. Each mail and its bookkeeping commit together. Returns how many
 * mails were queued.
 */
export async function sendDocumentNotices(ctx: Ctx): Promise<number> {
  const now = ctx.now();
  const today = todayInParis(now);
  const users = (await usersWantingNotices(ctx.db))
    .filter((u) => u.document_notice_sent_at === null || todayInParis(new Date(u.document_notice_sent_at)) !== today)
    .map((u) => ({ ...u, window: windowStart(u.document_notice_since!, u.document_notice_sent_at) }));
  const accounts = await accountsOfUsers(
    ctx.db,
    users.map((u) => u.id),
  );
  if (users.length === 0) return 0;
  const since = users.reduce((min, u) => (u.window < min ? u.window : min), users[0]!.window);
  const docs = await documentsPublishedSince(
    ctx.db,
    since,
    [...new Set(accounts.map((a) => a.id))],
    [...new Set(accounts.flatMap((a) => (a.building_id === null ? [] : [a.building_id])))],
  );
  const agency = await ctx.agency.get();
  let sent = 0;
  for (const user of users) {
    const mine = accounts.filter((a) => a.user_id === user.id);
    const lines: string[] = [];
    const seen = new Set<number>();
    for (const d of docs) {
      if (d.published_at <= user.window) continue;
      // Through the first held account that may see it: the link opens the right page.
      const through = mine.find((a) => canSeeDocument({ ...a, holds: true }, d));
      if (!through || seen.has(d.id)) continue;
      seen.add(d.id);
      lines.push(
        `« ${d.title} » du ${formatDate(d.document_date)} – ${SPACE_LABELS[d.scope]}, ${accountTitle(through)} : ${ctx.config.baseUrl}${spaceHref(through.id, d.scope)}`,
      );
    }
    if (lines.length === 0) continue;
    const mail = renderMail(agency, {
      to: user.email,
      subject:
        lines.length > 1
          ? `${lines.length} nouveaux documents dans votre espace`
          : 'Un nouveau document dans votre espace',
      greeting: greeting(user.civility, user.first_name, user.last_name),
      paragraphs: [
        lines.length > 1
          ? `${lines.length} nouveaux documents ont été publiés dans votre espace client\u00a0:`
          : 'Un nouveau document a été publié dans votre espace client\u00a0:',
        ...lines,
      ],
      action: { label: 'Ouvrir mon espace', url: `${ctx.config.baseUrl}/accueil` },
      after: [
        'Vous recevez cet email parce que vous l’avez demandé dans votre profil («\u00a0Recevoir un email quand un nouveau document est publié\u00a0»)\u00a0; décochez la case pour ne plus le recevoir.',
      ],
    });
    await inTransaction(ctx, async (trx) => {
      await enqueueMail(trx.db, mail, now);
      await markNoticeSent(trx.db, user.id, now.toISOString());
    });
    sent++;
  }
  ctx.log.info({ sent, candidates: users.length }, 'document notices queued');
  return sent;
}

/** Documents published after this were not told yet: since the last notice, or since the choice. */
function windowStart(since: string, sentAt: string | null): string {
  return sentAt !== null && sentAt > since ? sentAt : since;
}

/** The next run of the notices: tomorrow (or later today) at NOTICE_HOUR_PARIS, Paris time. */
export function nextNoticeRun(now: Date): Date {
  // Paris is UTC+1 or UTC+2: try both offsets and keep the first future instant that is 07:00 in Paris.
  for (let day = 0; day <= 2; day++) {
    for (const offset of [1, 2]) {
      const d = new Date(
        Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + day, NOTICE_HOUR_PARIS - offset),
      );
      const hour = Number(
        new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Paris', hour: '2-digit', hourCycle: 'h23' }).format(d),
      );
      if (hour === NOTICE_HOUR_PARIS && d > now) return d;
    }
  }
  return new Date(now.getTime() + 24 * 3_600_000);
}

/**
 * Plans the next run, unless one already waits or nobody asked for notices: called when
 * someone turns them on, when documents are published, and after each run — so a run lost
 * (given up after its retries) comes back with the next publication, and a Palier where
 * nobody wants notices has no job waiting. Two callers racing may both plan one; the run
 * that finds another pending adds none, so the queue comes back to a single run a day.
 */
export async function planDocumentNotices(ctx: Ctx): Promise<void> {
  if (await hasPendingJob(ctx.db, DOCUMENT_NOTICES_JOB)) return;
  if (!(await anyoneWantsNotices(ctx.db))) return;
  await ctx.queue.add(DOCUMENT_NOTICES_JOB, {}, { runAt: nextNoticeRun(ctx.now()) });
}

/** The job's work: today's notices, then the next run. */
export async function runDocumentNotices(ctx: Ctx): Promise<void> {
  await sendDocumentNotices(ctx);
  await planDocumentNotices(ctx);
}
