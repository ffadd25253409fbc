/**
 * Output paths given on the command line (`eval --roc`, `train --out`, `report --out`), checked
 * before the work that fills them: a user learns of a wrong path at once, in one line, instead of
 * after minutes of training or evaluation whose result is then lost with a stack trace.
 */
import { accessSync, constants, mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { escapeText } from '@floe/flow';
import { UsageError } from './analyze.js';

/** `err`'s system error code (ENOENT, EACCES…) or its message. */
function reason(err: unknown): string {
  const e = err as { code?: string; message?: string };
  return e.code ?? e.message ?? String(err);
}

/** statSync that answers undefined for a path that does not exist. */
function statOrUndefined(path: string): ReturnType<typeof statSync> | undefined {
  try {
    return statSync(path);
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * Checks that a file can be written at `path` (option `option`, for the message): it is not a
 * directory, its folder exists and is a directory, and the file (when it exists) or else the
 * folder is writable. Writes nothing.
 * @throws UsageError `--roc PATH: is a directory`, `--roc PATH: no such folder DIR`,
 *   `--roc PATH: cannot write (EACCES)`.
 */
export function checkOutputFile(path: string, option: string): void {
  const shown = `${option} ${escapeText(path)}`;
  let st: ReturnType<typeof statSync> | undefined;
  try {
    st = statOrUndefined(path);
  } catch (err) {
    throw new UsageError(`${shown}: cannot use (${reason(err)})`);
  }
  if (st?.isDirectory()) throw new UsageError(`${shown}: is a directory`);
  const dir = dirname(resolve(path));
  if (st === undefined) {
    const d = statOrUndefinedSafe(dir);
    if (d === undefined || !d.isDirectory()) throw new UsageError(`${shown}: no such folder ${escapeText(dir)}`);
  }
  try {
    accessSync(st === undefined ? dir : path, constants.W_OK);
  } catch (err) {
    throw new UsageError(`${shown}: cannot write (${reason(err)})`);
  }
}

/** statOrUndefined that also answers undefined for a path that cannot be examined. */
function statOrUndefinedSafe(path: string): ReturnType<typeof statSync> | undefined {
  try {
    return statOrUndefined(path);
  } catch {
    return undefined;
  }
}

/**
 * Makes sure `path` is a writable directory (option `option`, for the message), creating the
 * missing folders one level at a time. Node's recursive mkdir is not used: on a file system
 * that refuses new entries with ENOENT (`/proc`) it retries without end.
 * @throws UsageError `--out PATH: not a directory` (an existing file such as /dev/null, or a file
 *   on the way), `--out PATH: cannot create DIR (EACCES)`, `--out PATH: cannot write (EROFS)`.
 */
export function prepareOutputDir(path: string, option: string): void {
  const shown = `${option} ${escapeText(path)}`;
  const full = resolve(path);
  const missing: string[] = [];
  let at = full;
  let st = statOrUndefinedSafe(at);
  while (st === undefined) {
    missing.push(at);
    const up = dirname(at);
    if (up === at) break;
    at = up;
    st = statOrUndefinedSafe(at);
  }
  if (st !== undefined && !st.isDirectory()) throw new UsageError(`${shown}: not a directory${at === full ? '' : ` (${escapeText(at)} is a file)`}`);
  for (const dir of missing.reverse()) {
    try {
      mkdirSync(dir);
    } catch (err) {
      throw new UsageError(`${shown}: cannot create ${escapeText(dir)} (${reason(err)})`);
    }
  }
  try {
    accessSync(full, constants.W_OK);
  } catch (err) {
    throw new UsageError(`${shown}: cannot write (${reason(err)})`);
  }
}
