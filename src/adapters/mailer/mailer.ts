import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import nodemailer from 'nodemailer';
import type { Config } from '../../config.ts';

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  html: string;
  replyTo?: string;
  /** The sender's display name: the agency's, so clients see who writes to them. */
  fromName?: string;
}

/** MAIL_FROM with its own display name wins; an address alone is shown under the agency's name. */
export function senderOf(mailFrom: string, fromName: string | undefined): string | { name: string; address: string } {
  if (/<[^>]+>\s*$/.test(mailFrom) || !fromName) return mailFrom;
  return { name: fromName, address: mailFrom };
}

/** An address nobody can answer or receive at (the default before MAIL_FROM is set). */
export function isPlaceholderSender(mailFrom: string): boolean {
  const domain = /@([^>\s]+)>?\s*$/.exec(mailFrom)?.[1]?.toLowerCase() ?? '';
  return domain === '' || domain === 'localhost' || domain.endsWith('.localhost') || /^[\d.]+$/.test(domain);
}

export interface Mailer {
  send(message: MailMessage): Promise<void>;
  close(): void;
}

/**
 * The transport: real SMTP when SMTP_URL is set; otherwise each mail becomes an .eml file
 * in DATA_DIR/outbox, so a fresh install can be tried without a mail server. Features do
 * not call it: they put mails in the outbox (enqueueMail in outbox.ts) and the job worker
 * sends them through this.
 */
export function createMailer(config: Pick<Config, 'smtpUrl' | 'mailFrom' | 'dataDir'>): Mailer {
  if (config.smtpUrl) {
    const transport = nodemailer.createTransport({
      url: config.smtpUrl,
      // Bounded well under the job lock (10 min), so a hanging server fails the try
      // instead of letting another worker take the same mail.
      connectionTimeout: 30_000,
      greetingTimeout: 30_000,
      socketTimeout: 60_000,
    });
    return {
      async send({ fromName, ...m }) {
        await transport.sendMail({ from: senderOf(config.mailFrom, fromName), ...m });
      },
      close: () => transport.close(),
    };
  }
  const outbox = path.join(config.dataDir, 'outbox');
  const transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  return {
    async send({ fromName, ...m }) {
      const info = await transport.sendMail({ from: senderOf(config.mailFrom, fromName), ...m });
      // Mails carry one-time links: readable by Palier's user only.
      mkdirSync(outbox, { recursive: true, mode: 0o700 });
      const name = `${new Date().toISOString().replace(/[:.]/g, '-')}-${randomBytes(3).toString('hex')}.eml`;
      writeFileSync(path.join(outbox, name), info.message as Buffer, { mode: 0o600 });
    },
    close: () => transport.close(),
  };
}
