import path from 'node:path';
import { z } from 'zod';
import type { S3Location } from './adapters/storage/s3.ts';

/**
 * The only reader of process.env. Everything else receives a Config.
 */
export interface Config {
  port: number;
  host: string;
  dataDir: string;
  databaseUrl: string;
  baseUrl: string;
  smtpUrl: string | null;
  mailFrom: string;
  logLevel: string;
  /** true when BASE_URL is https: cookies get __Host- and Secure. */
  secureCookies: boolean;
  /**
   * Whether to believe X-Forwarded-For / X-Forwarded-Proto: false, true (any proxy), or
   * the proxies' addresses ("127.0.0.1,10.0.0.0/8"). Off by default: without a proxy a
   * client could forge its address and escape the attempt limits.
   */
  trustProxy: boolean | string;
  secrets: Secrets;
  /** Card payments through Stripe Checkout: null (no card option) unless both keys are set. */
  stripe?: StripeConfig | null;
  /** Stored files in an S3-compatible bucket (FILES_URL); absent or null: DATA_DIR/files. */
  files?: S3Location | null;
}

export interface StripeConfig {
  secretKey: string;
  webhookSecret: string;
  /** Another address for Stripe's API (tests, a proxy): STRIPE_API_BASE, e.g. http://127.0.0.1:12111. */
  apiBase: string | null;
}

/**
 * What the environment gives, before the secrets: they are read from DATA_DIR only once
 * checked against the database (openDatabase in core/secrets), never on their own.
 */
export type BootConfig = Omit<Config, 'secrets'>;

export interface Secrets {
  /** Signs cookies (flash, CSRF secret). */
  cookieSecret: string;
  /** HMAC key ("pepper") for access codes and one-time tokens. */
  hmacKey: string;
  /** AES-256-GCM key for access codes that must be printed again. */
  encryptionKey: string;
}

const envSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  DATA_DIR: z.string().min(1).default('./data'),
  DATABASE_URL: z.string().optional(),
  BASE_URL: z.string().url().optional(),
  SMTP_URL: z.string().optional(),
  MAIL_FROM: z.string().optional(),
  TRUST_PROXY: z.string().optional(),
  STRIPE_SECRET_KEY: z.string().optional(),
  STRIPE_WEBHOOK_SECRET: z.string().optional(),
  STRIPE_API_BASE: z.string().url().optional(),
  FILES_URL: z.string().optional(),
  AWS_ACCESS_KEY_ID: z.string().optional(),
  AWS_SECRET_ACCESS_KEY: z.string().optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export function loadConfig(env: NodeJS.ProcessEnv = process.env): BootConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')} : ${i.message}`);
    throw new Error(`Configuration invalide :\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  // Not created here: a command that refuses to run must leave no folder behind.
  const dataDir = path.resolve(e.DATA_DIR);
  const baseUrl = (e.BASE_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, '');
  const databaseUrl = e.DATABASE_URL ?? `sqlite:${path.join(dataDir, 'palier.sqlite')}`;
  if (!/^(sqlite:|postgres(ql)?:\/\/)/.test(databaseUrl)) {
    throw new Error('Configuration invalide :\n  DATABASE_URL : doit commencer par sqlite: ou postgres://');
  }
  if (!e.STRIPE_SECRET_KEY !== !e.STRIPE_WEBHOOK_SECRET) {
    // Half a configuration would open payments whose confirmations are never read.
    throw new Error(
      'Configuration invalide :\n  STRIPE_SECRET_KEY et STRIPE_WEBHOOK_SECRET : renseignez les deux pour le paiement par carte, ou aucun.',
    );
  }
  const host = new URL(baseUrl).hostname;
  return {
    port: e.PORT,
    host: e.HOST,
    dataDir,
    databaseUrl,
    baseUrl,
    smtpUrl: e.SMTP_URL || null,
    // An address only: mails then show the agency's name as the sender (see the mailer).
    mailFrom: e.MAIL_FROM ?? `ne-pas-repondre@${host === 'localhost' ? 'palier.localhost' : host}`,
    logLevel: e.LOG_LEVEL,
    secureCookies: baseUrl.startsWith('https://'),
    trustProxy: parseTrustProxy(e.TRUST_PROXY),
    stripe:
      e.STRIPE_SECRET_KEY && e.STRIPE_WEBHOOK_SECRET
        ? { secretKey: e.STRIPE_SECRET_KEY, webhookSecret: e.STRIPE_WEBHOOK_SECRET, apiBase: e.STRIPE_API_BASE ?? null }
        : null,
    files: parseFilesUrl(e.FILES_URL, e.AWS_ACCESS_KEY_ID, e.AWS_SECRET_ACCESS_KEY),
  };
}

/**
 * `s3://bucket/prefix?endpoint=http://127.0.0.1:9000&region=fr-par` → where files go; empty:
 * the local folder. Keys come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, read here
 * like every variable; without them the SDK looks for an instance role.
 */
export function parseFilesUrl(
  raw: string | undefined,
  accessKeyId?: string,
  secretAccessKey?: string,
): S3Location | null {
  const value = (raw ?? '').trim();
  if (value === '') return null;
  const invalid = (why: string) => new Error(`Configuration invalide :\n  FILES_URL : ${why}`);
  if (!URL.canParse(value)) throw invalid('attendu s3://bucket/dossier?endpoint=…&region=…');
  const url = new URL(value);
  if (url.protocol !== 's3:') throw invalid('seul s3:// est pris en charge');
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(url.hostname))
    throw invalid(`nom de bucket invalide : ${url.hostname}`);
  const endpoint = url.searchParams.get('endpoint');
  if (endpoint !== null && !/^https?:\/\/[^/]+\/?$/.test(endpoint))
    throw invalid('endpoint doit être http(s)://hôte:port');
  if (((accessKeyId ?? '') === '') !== ((secretAccessKey ?? '') === '')) {
    throw invalid('AWS_ACCESS_KEY_ID et AWS_SECRET_ACCESS_KEY vont ensemble');
  }
  return {
    bucket: url.hostname,
    prefix: decodeURIComponent(url.pathname).replace(/^\/+|\/+$/g, ''),
    endpoint: endpoint?.replace(/\/$/, '') ?? null,
    region: url.searchParams.get('region') ?? 'us-east-1',
    credentials: accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey } : null,
  };
}

function parseTrustProxy(raw: string | undefined): boolean | string {
  const v = (raw ?? '').trim().toLowerCase();
  if (v === '' || v === '0' || v === 'false' || v === 'non' || v === 'no') return false;
  if (v === '1' || v === 'true' || v === 'oui' || v === 'yes') return true;
  return raw!.trim();
}
