/**
 * Reading a file named by configuration (policy, inventory, blocklist, config, token file) safely:
 * only a regular file is read, and at most a cap of bytes, so `/dev/zero`, a FIFO, a directory or
 * a huge file gives one clear error instead of a hang or an out-of-memory abort.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';

/** Default cap for configuration-like files (policy, inventory, blocklist, config): 64 MiB. */
export const MAX_CONFIG_FILE_BYTES = 64 * 1024 * 1024;

/**
 * Why readBoundedText refused a file: `not-regular` (device, FIFO, directory, socket) or
 * `too-large`. The message does not name the file (callers prefix it). Other failures are the fs
 * error (ENOENT, EACCES…).
 */
export class FileReadError extends Error {
  constructor(
    readonly path: string,
    readonly reason: 'not-regular' | 'too-large',
    message: string,
  ) {
    super(message);
    this.name = 'FileReadError';
  }
}

/** A one-line reason for a failed read: `not a regular file`, `larger than N bytes`, `permission denied`, `no such file`, else the error's message. */
export function readFailure(e: unknown): string {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EISDIR') return 'not a regular file';
  return e instanceof Error ? e.message : String(e);
}

/**
 * Reads a regular file as UTF-8, at most `maxBytes` bytes. The file is opened non-blocking (a FIFO
 * does not hang the open) and checked with fstat on the open descriptor (no race with a swap).
 * @param maxBytes cap in bytes (default {@link MAX_CONFIG_FILE_BYTES}).
 * @throws FileReadError when the path is not a regular file or holds more than `maxBytes` bytes;
 *   the fs error (with its `code`, e.g. ENOENT, EACCES) when it cannot be opened.
 */
export function readBoundedText(path: string, maxBytes: number = MAX_CONFIG_FILE_BYTES): string {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new FileReadError(path, 'not-regular', 'not a regular file');
    if (st.size > maxBytes) throw new FileReadError(path, 'too-large', `larger than ${maxBytes} bytes`);
    const chunks: Buffer[] = [];
    let n = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(Math.min(maxBytes + 1 - n, 1 << 20));
      const r = readSync(fd, chunk, 0, chunk.length, null);
      if (r === 0) break;
      chunks.push(chunk.subarray(0, r));
      n += r;
      if (n > maxBytes) throw new FileReadError(path, 'too-large', `larger than ${maxBytes} bytes`);
    }
    return Buffer.concat(chunks, n).toString('utf8');
  } finally {
    closeSync(fd);
  }
}
