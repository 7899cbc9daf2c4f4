import { createMailer } from './adapters/mailer/mailer.ts';
import { buildApp } from './app.ts';
import { loadConfig } from './config.ts';
import { createLogger } from './core/logging.ts';
import { createDb, migrateToLatest } from './db/db.ts';
import { getAgency } from './features/agency/agency.repository.ts';

const config = loadConfig();
const db = createDb(config.databaseUrl);
await migrateToLatest(db);
const mailer = createMailer(config);
const app = await buildApp({ config, db, mailer }, { logger: createLogger(config.logLevel) });

if (!(await getAgency(db)).configured) {
  app.log.warn(
    'L\'identité de l\'agence n\'est pas définie : les pages affichent un nom neutre. Définissez-la avec : npx palier agence --nom "Cabinet …" --slogan "…" --adresse "…" --telephone "…" --email "…"',
  );
}

let closing = false;
async function shutdown(signal: string) {
  if (closing) return;
  closing = true;
  app.log.info({ signal }, 'arrêt en cours');
  // close() stops accepting and waits for requests in flight.
  await app.close();
  mailer.close();
  await db.destroy();
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));

await app.listen({ port: config.port, host: config.host });
app.log.info(
  `Palier écoute sur ${config.baseUrl} (base : ${config.databaseUrl.startsWith('postgres') ? 'PostgreSQL' : 'SQLite'})`,
);
