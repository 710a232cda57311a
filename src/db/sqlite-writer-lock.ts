// One gateway process per SQLite database. SQLite itself would let a second process open the file
// and both would write, but each process runs its own job workers and group commits on the
// assumption that it is the only writer (no SKIP LOCKED): two would claim the same jobs and fight
// for the write lock. So the gateway holds an exclusive SQLite lock on a side file
// (`<database>.writer-lock`) for its whole life. The operating system drops the lock when the
// process dies, even by SIGKILL, so a crash never leaves a stale lock behind. Short-lived
// commands (`paywarden jobs list`, `keys create`) do not take it and still work beside a gateway.
import Database from 'better-sqlite3';

export class SecondWriterError extends Error {}

/** Takes the lock or throws `SecondWriterError`; the returned function releases it. */
export function lockSoleWriter(databasePath: string): () => void {
  const lockPath = `${databasePath}.writer-lock`;
  const lock = new Database(lockPath, { timeout: 0 });
  try {
    lock.pragma('locking_mode = EXCLUSIVE');
    lock.exec('BEGIN EXCLUSIVE');
  } catch (error) {
    lock.close();
    if ((error as { code?: unknown }).code === 'SQLITE_BUSY')
      throw new SecondWriterError(
        `Another Paywarden process is already running on the SQLite database ${databasePath} (it holds ${lockPath}). ` +
          'SQLite serves one gateway process; stop the other one, or use PostgreSQL (PAYWARDEN_DATABASE_URL=postgres://...) to run several.',
      );
    throw error;
  }
  return () => lock.close();
}
