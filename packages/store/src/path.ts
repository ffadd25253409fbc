/**
 * The DuckDB store's file: checked (and its directory created) before anything opens it, so an
 * unusable `store.path` / `floe run --store` is one clear error naming the path (exit 2), not a
 * DuckDB stack trace from start().
 */
import { closeSync, mkdirSync, openSync, readSync, statSync, unlinkSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { STORE_ERROR_CODES, StoreError } from './errors.js';

/**
 * Magic bytes of a DuckDB database file and their offset: the main header starts with an 8-byte
 * checksum, then `DUCK` (DuckDB storage format, `MainHeader::MAGIC_BYTES`).
 */
export const DUCKDB_MAGIC = Object.freeze({ offset: 8, bytes: 'DUCK' });

/** What a failed check says about the path (node's error code, e.g. EACCES, when there is one). */
function why(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  return err.code ? `${err.code}` : String(err.message ?? e);
}

/**
 * Makes sure DuckDB can use `path`: `:memory:` always can; otherwise its directory is created
 * when missing (`data/` on a first run), must be a directory that is writable (DuckDB writes a
 * `.wal` file beside the database; probed by creating and removing a file, which also holds for
 * root on a read-only or virtual file system), and the path, when it exists, must be a regular
 * file starting like a DuckDB database.
 * @throws StoreError FLOE_STORE_BAD_PATH naming the path and the reason: its directory cannot be
 *   created or is not writable, it is a directory or not a regular file, or it is not a DuckDB
 *   database file (an empty file is not one either).
 */
export function checkDuckDbPath(path: string): void {
  if (path === ':memory:') return;
  const bad = (reason: string, cause?: unknown) =>
    new StoreError(STORE_ERROR_CODES.BAD_PATH, `store path ${path}: ${reason}; pass --store FILE (a DuckDB file, created when missing) or ":memory:"`, { cause });
  const file = resolve(path);
  const dir = dirname(file);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw bad(
      code === 'EEXIST' || code === 'ENOTDIR' ? `its directory ${dir} cannot be created: a file is in the way (${code})` : `cannot create its directory ${dir} (${why(e)})`,
      e,
    );
  }
  let st;
  try {
    st = statSync(file, { throwIfNoEntry: false });
  } catch (e) {
    throw bad(`cannot read it (${why(e)})`, e);
  }
  if (st?.isDirectory()) throw bad('is a directory');
  if (st && !st.isFile()) throw bad('is not a regular file');
  const probe = join(dir, `.floe-probe-${process.pid}-${Date.now()}`);
  try {
    closeSync(openSync(probe, 'wx'));
    unlinkSync(probe);
  } catch (e) {
    throw bad(`its directory ${dir} is not writable (${why(e)})`, e);
  }
  if (!st) return;
  const head = Buffer.alloc(DUCKDB_MAGIC.offset + DUCKDB_MAGIC.bytes.length);
  let n = 0;
  try {
    const fd = openSync(file, 'r+');
    try {
      n = readSync(fd, head, 0, head.length, 0);
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    throw bad(`cannot open it for reading and writing (${why(e)})`, e);
  }
  if (n < head.length || head.toString('latin1', DUCKDB_MAGIC.offset) !== DUCKDB_MAGIC.bytes) {
    throw bad(n === 0 ? 'is an empty file, not a DuckDB database' : 'is not a DuckDB database file');
  }
}

/**
 * For commands that only read a store (`floe report`, `floe policy suggest`, `floe train
 * --from-store`, `floe token list|revoke`): a DuckDB `path` must already hold a store. Without
 * this check, opening it would create an empty database (and its directories), and a mistyped
 * `--store` would read as a period with no data. `:memory:` is refused too: it holds nothing to
 * read. `hint` ends the message (default: pass --store FILE, for commands that have that flag).
 * @throws StoreError FLOE_STORE_BAD_PATH naming the path when no file is there or it is `:memory:`.
 */
export function requireExistingDuckDbStore(path: string, command: string, hint = 'pass --store FILE (a DuckDB file floe run wrote)'): void {
  if (path === ':memory:') throw new StoreError(STORE_ERROR_CODES.BAD_PATH, `${command}: store path :memory: holds no data to read; ${hint}`);
  const st = statSync(resolve(path), { throwIfNoEntry: false });
  if (st === undefined) throw new StoreError(STORE_ERROR_CODES.BAD_PATH, `${command}: store path ${path}: no such file; ${hint}`);
}
