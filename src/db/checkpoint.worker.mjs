// Copies the SQLite write-ahead log back into the database file on a thread of its own, so
// that the requests' thread never pays for it (a checkpoint syncs the disk). PASSIVE: it
// waits for no reader or writer; what it cannot copy now is copied the next time.
// Plain JavaScript so that it starts the same under node, tsx, vitest and the CLI.
import { clearInterval, setInterval } from 'node:timers';
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

const db = new Database(workerData.file, { fileMustExist: true });
db.pragma('busy_timeout = 1000');
db.pragma('synchronous = NORMAL');
const timer = setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch {
    // Busy or briefly unavailable: the next round copies it.
  }
}, workerData.everyMs);

// Closed before the requests' connection, which, closing last, checkpoints and removes the log.
parentPort.on('message', (m) => {
  if (m !== 'close') return;
  clearInterval(timer);
  db.close();
  parentPort.close();
  const closed = new Int32Array(workerData.closed);
  Atomics.store(closed, 0, 1);
  Atomics.notify(closed, 0);
});
