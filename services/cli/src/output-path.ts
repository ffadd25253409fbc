/**
 * Output paths given on the command line (`eval --roc`, `train --out`, `report --out`), checked
 * before the work that fills them: a user learns of a wrong path at once, in one line, instead of
 * after minutes of training or evaluation whose result is then lost with a stack trace.
 */
import { accessSync, constants, mkdirSync, statSync, type Stats } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { escapeText } from '@floe/flow';
import { UsageError } from './analyze.js';

/** `err`'s system error code (ENOENT, EACCES…) or its message. */
function reason(err: unknown): string {
  const e = err as { code?: string; message?: string };
  return e.code ?? e.message ?? String(err);
}

/**
 * What is at `path`, or undefined when nothing is there or it cannot be examined (a file on the
 * way, ENOTDIR; a folder that cannot be searched): the writability check that follows names why.
 */
function statQuiet(path: string): Stats | undefined {
  try {
    return statSync(path, { throwIfNoEntry: false });
  } catch {
    return undefined;
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
  const st = statQuiet(path);
  if (st?.isDirectory()) throw new UsageError(`${shown}: is a directory`);
  const dir = dirname(resolve(path));
  if (st === undefined && !statQuiet(dir)?.isDirectory()) throw new UsageError(`${shown}: no such folder ${escapeText(dir)}`);
  try {
    accessSync(st === undefined ? dir : path, constants.W_OK);
  } catch (err) {
    throw new UsageError(`${shown}: cannot write (${reason(err)})`);
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
  let st = statQuiet(at);
  while (st === undefined) {
    missing.push(at);
    const up = dirname(at);
    if (up === at) break;
    at = up;
    st = statQuiet(at);
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
