// Copies the SQLite write-ahead log back into the database file on a thread of its own, so
// that the requests' thread never pays for it (a checkpoint syncs the disk). PASSIVE: it
// waits for no reader or writer; what it cannot copy now is copied the next time.
import { setInterval } from 'node:timers';
import { workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

const db = new Database(workerData.file, { fileMustExist: true });
db.pragma('busy_timeout = 1000');
db.pragma('synchronous = NORMAL');
setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch {
    // Busy or briefly unavailable: the next round copies it.
  }
}, workerData.everyMs);
