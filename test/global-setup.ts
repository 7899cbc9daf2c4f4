import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { TEST_LOG_DIR } from './helpers/log-dir.ts';

/**
 * What must never reach a log line, whatever the test: passwords the tests type, access
 * codes, one-time tokens in URLs, session and CSRF cookies.
 */
export const FORBIDDEN_IN_LOGS: { what: string; pattern: RegExp }[] = [
  { what: 'a test password', pattern: /Tr3sB1enCach|Palier#Lune42|Mauvais123|Faux\d+xyzAB/ },
  { what: 'an access code', pattern: /CODE-\d+-XY/ },
  { what: 'a session cookie', pattern: /palier_session=[A-Za-z0-9_-]{10,}/ },
  { what: 'a CSRF secret or token', pattern: /palier_csrf=[^;\s"]{10,}|"_csrf"\s*:/ },
  { what: 'a one-time token in a URL', pattern: /(jeton|ticket|token)=(?!\[masqu)[A-Za-z0-9_-]{16,}/ },
  // "code" alone is left out: error objects carry codes such as "SQLITE_BUSY"; access codes
  // themselves are caught by their pattern above.
  {
    what: 'a password field',
    pattern: /"(password|confirm|currentPassword|newPassword|accessCode|code_acces)"\s*:\s*"/,
  },
];

export function setup(): void {
  rmSync(TEST_LOG_DIR, { recursive: true, force: true });
}

/** Fails the run if any test app logged a secret. */
export function teardown(): void {
  if (!existsSync(TEST_LOG_DIR)) return;
  const leaks: string[] = [];
  let lines = 0;
  for (const file of readdirSync(TEST_LOG_DIR)) {
    const content = readFileSync(path.join(TEST_LOG_DIR, file), 'utf8');
    for (const line of content.split('\n')) {
      if (!line) continue;
      lines++;
      for (const f of FORBIDDEN_IN_LOGS) {
        if (f.pattern.test(line)) leaks.push(`${file}: ${f.what}: ${line.slice(0, 300)}`);
      }
    }
  }
  if (leaks.length > 0) {
    throw new Error(`Secrets found in the logs of the test suite:\n${leaks.slice(0, 20).join('\n')}`);
  }
  console.log(`Logs of the suite checked: ${lines} lines, no password, code, token or session id.`);
}
