import { z } from 'zod';
import { formatInstant, plural } from '../../core/format.ts';
import { enqueue, jobsOfKind, retryFailedJob, type Job, type RetryResult } from '../../core/jobs/jobs.repository.ts';
import { PermanentJobError, type JobHandler } from '../../core/jobs/worker.ts';
import type { Db } from '../../db/db.ts';
import type { Mailer, MailMessage } from './mailer.ts';

/** The job kind of the mail outbox. */
export const MAIL_JOB = 'mail';

/**
 * Puts a rendered mail in the outbox. Call it with the transaction of the change that
 * causes the mail: the mail exists if and only if the change is committed, and the worker
 * delivers it (with retries) even if the SMTP server is down right now.
 */
export async function enqueueMail(trx: Db, message: MailMessage, now: Date): Promise<number> {
  return enqueue(trx, MAIL_JOB, message, { now });
}

const mailSchema = z.object({
  to: z.string().min(1),
  subject: z.string(),
  text: z.string(),
  html: z.string(),
  replyTo: z.string().optional(),
  fromName: z.string().optional(),
});

/** What the outbox holds about one mail, for staff. */
function mailOf(job: Job): { to: string; subject: string } {
  try {
    const m = JSON.parse(job.payload_json) as { to?: unknown; subject?: unknown };
    return { to: String(m.to ?? '?'), subject: String(m.subject ?? '') };
  } catch {
    return { to: '?', subject: '(contenu illisible)' };
  }
}

/**
 * The worker's 'mail' handler: sends through the SMTP (or .eml) transport. A refusal
 * the server gives as permanent (5xx: unknown mailbox, rejected sender…) is not retried;
 * anything else (connection refused, timeout, 4xx) is.
 */
export function mailHandler(mailer: Mailer): JobHandler {
  return async (payload) => {
    const parsed = mailSchema.safeParse(payload);
    if (!parsed.success) throw new PermanentJobError('email mal formé dans la file d’envoi');
    try {
      await mailer.send(parsed.data);
      // A sent mail keeps who it went to and its subject (for `palier courriels`), not its
      // body: reset and confirmation links must not outlive the delivery in the database.
      return { retain: { to: parsed.data.to, subject: parsed.data.subject } };
    } catch (err) {
      const code = (err as { responseCode?: unknown }).responseCode;
      if (typeof code === 'number' && code >= 500 && code < 600) {
        throw new PermanentJobError(`refusé par le serveur SMTP : ${(err as Error).message}`);
      }
      throw err;
    }
  };
}

function line(job: Job): string {
  const m = mailOf(job);
  return `  n° ${job.id} · à ${m.to} · « ${m.subject} »`;
}

/** `npx palier courriels`: the outbox as staff read it, by status. */
export async function describeOutbox(db: Db, now: Date): Promise<string[]> {
  const since = new Date(now.getTime() - 24 * 60 * 60_000);
  const jobs = await jobsOfKind(db, MAIL_JOB, since);
  const waiting = jobs.filter((j) => j.status === 'pending' || j.status === 'running');
  const failed = jobs.filter((j) => j.status === 'failed');
  const sent = jobs.filter((j) => j.status === 'done');
  const out: string[] = [];

  out.push(`En attente d’envoi : ${waiting.length}`);
  for (const j of waiting) {
    out.push(line(j));
    const created = `créé le ${formatInstant(j.created_at)}`;
    if (j.status === 'running') {
      out.push(`      ${created}, envoi en cours (tentative ${j.attempts} sur ${j.max_attempts})`);
    } else if (j.attempts === 0) {
      out.push(`      ${created}, premier envoi prévu le ${formatInstant(j.run_at)}`);
    } else {
      out.push(
        `      ${created}, ${plural(j.attempts, 'tentative échouée', 'tentatives échouées')} sur ${j.max_attempts}, nouvel essai le ${formatInstant(j.run_at)}`,
      );
      if (j.last_error) out.push(`      dernière erreur : ${j.last_error}`);
    }
  }

  out.push('');
  out.push(`En échec : ${failed.length}`);
  for (const j of failed) {
    out.push(line(j));
    out.push(
      `      créé le ${formatInstant(j.created_at)}, abandonné le ${formatInstant(j.finished_at ?? j.run_at)} après ${plural(j.attempts, 'tentative', 'tentatives')}`,
    );
    out.push(`      raison : ${j.last_error ?? 'inconnue'}`);
  }
  if (failed.length > 0) {
    out.push(`  Pour renvoyer un email en échec : npx palier courriels --relancer N° (par exemple ${failed[0]!.id}).`);
  }

  out.push('');
  out.push(`Envoyés ces dernières 24 heures : ${sent.length}`);
  for (const j of sent.sort((a, b) => (b.finished_at ?? '').localeCompare(a.finished_at ?? '')).slice(0, 20)) {
    out.push(`${line(j)} · envoyé le ${formatInstant(j.finished_at ?? j.run_at)}`);
  }
  if (sent.length > 20) out.push(`  … et ${sent.length - 20} autres.`);
  return out;
}

/** `npx palier courriels --relancer N`: a failed mail goes back to the queue with fresh attempts. */
export async function requeueMail(db: Db, id: number, now: Date): Promise<{ ok: boolean; message: string }> {
  // Ids are 32-bit integers on PostgreSQL: a larger number names no mail (and must not reach the query).
  const r: RetryResult =
    id >= 1 && id <= 2_147_483_647 ? await retryFailedJob(db, id, now, MAIL_JOB) : { ok: false, reason: 'not_found' };
  if (r.ok) {
    const m = mailOf(r.job);
    return {
      ok: true,
      message: `Email n° ${id} (à ${m.to}, « ${m.subject} ») remis en file d’envoi : il partira dès qu’une instance de Palier en marche le prendra.`,
    };
  }
  if (r.reason === 'not_found') return { ok: false, message: `Aucun email n° ${id} dans la file d’envoi.` };
  const why = r.job?.status === 'done' ? 'il a déjà été envoyé' : 'il est encore dans la file d’envoi';
  return { ok: false, message: `L’email n° ${id} n’est pas en échec : ${why}.` };
}
