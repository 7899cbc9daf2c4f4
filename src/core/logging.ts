import pino, { type Logger } from 'pino';

/** Query parameters that carry one-time secrets (reset links, claim tickets). */
const SECRET_PARAMS = /([?&](?:jeton|ticket|token)=)[^&#]*/gi;

export function maskUrl(url: string): string {
  return url.replace(SECRET_PARAMS, '$1[masqué]');
}

/**
 * JSON logs (pino) with the request id. Never a password, code, token or session id:
 * cookies and authorization headers are redacted, one-time tokens masked in URLs, and
 * bodies are never logged.
 */
export function createLogger(level: string, destination?: string): Logger {
  return pino(
    {
      level,
      redact: {
        paths: ['req.headers.cookie', 'req.headers.authorization', 'res.headers["set-cookie"]'],
        censor: '[masqué]',
      },
      serializers: {
        req: (req: { method: string; url: string; ip?: string; id?: string }) => ({
          id: req.id,
          method: req.method,
          url: maskUrl(req.url),
          ip: req.ip,
        }),
      },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination ? pino.destination({ dest: destination, sync: true, mkdir: true }) : undefined,
  );
}
