import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where every test app writes its JSON logs during a run of the suite. */
export const TEST_LOG_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../.tmp/test-logs');
