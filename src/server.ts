import { createMailer, isPlaceholderSender } from './adapters/mailer/mailer.ts';
import { buildApp } from './app.ts';
import { loadConfig } from './config.ts';
import { createLogger } from './core/logging.ts';
import { agencyIdentity } from './core/agency/agency.ts';
import { AppError } from './core/errors.ts';
import { openDatabase } from './core/secrets/secrets.ts';
import { SERVER_CHECKPOINT_MS } from './db/db.ts';
import { createWorker } from './worker.ts';

// Everything Palier creates in DATA_DIR (database, files, outbox) is readable by its owner only.
process.umask(0o077);
// Refused, in French, when the secrets of DATA_DIR are missing or not this database's.
// A long-running server copies SQLite's log back on a thread of its own.
const { config, db } = await openDatabase(loadConfig(), { checkpointEveryMs: SERVER_CHECKPOINT_MS }).catch(
  (err: unknown) => {
    if (!(err instanceof AppError)) throw err;
    console.error(err.userMessage);
    process.exit(1);
  },
);
const mailer = createMailer(config);
const agency = agencyIdentity(db);
const app = await buildApp({ config, db, agency }, { logger: createLogger(config.logLevel) });
// Delivers the mail outbox and other background jobs; every instance runs one, claiming
// jobs atomically in the database so none is done twice.
const worker = createWorker({ db, mailer, config, agency }, { log: app.log.child({ component: 'worker' }) });

if (isPlaceholderSender(config.mailFrom)) {
  app.log.warn(
    `L’adresse d’expédition des emails est provisoire (${config.mailFrom}) : les clients ne pourront ni la reconnaître ni y répondre. Définissez MAIL_FROM, par exemple MAIL_FROM=ne-pas-repondre@cabinet-exemple.fr (le nom de l’agence est ajouté comme expéditeur).`,
  );
}

if (!(await agency.get()).configured) {
  app.log.warn(
    'L’identité de l’agence n’est pas définie : les pages affichent un nom neutre. Définissez-la avec : npx palier agence --nom "Cabinet …" --slogan "…" --adresse "…" --telephone "…" --email "…"',
  );
}

/** Requests still unfinished this long after SIGTERM (a client stalling its upload) are cut. */
const SHUTDOWN_GRACE_MS = 20_000;

let closing = false;
// A response finished during the shutdown tells the client (or the proxy) not to reuse its
// connection: otherwise close() would wait for that idle keep-alive connection (72 s).
app.addHook('onSend', async (_req, reply) => {
  if (closing) reply.header('connection', 'close');
});

async function shutdown(signal: string) {
  if (closing) return;
  closing = true;
  app.log.info({ signal }, 'arrêt en cours');
  const cut = setTimeout(() => {
    app.log.warn('requêtes encore en cours après le délai d’arrêt : connexions fermées');
    app.server.closeAllConnections();
  }, SHUTDOWN_GRACE_MS);
  cut.unref();
  // close() stops accepting, closes idle keep-alive connections and waits for requests in flight.
  await app.close();
  clearTimeout(cut);
  // Then the worker finishes the job in hand (a mail being sent) and takes no other;
  // what is left in the queue waits for the next start or another instance.
  await worker.stop();
  mailer.close();
  await db.destroy();
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));

await app.listen({ port: config.port, host: config.host });
worker.start();
app.log.info(
  `Palier écoute sur ${config.baseUrl} (base : ${config.databaseUrl.startsWith('postgres') ? 'PostgreSQL' : 'SQLite'})`,
);
