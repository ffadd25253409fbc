/**
 * The one line reader of floe: bytes in (a file, a child's stdout), lines out, with a bound on
 * the memory one line may take. Used by parseFile, parseStream, the collector's sources and
 * `floe analyze`.
 *
 * - Line ends: LF, CRLF and a lone CR (old Mac files, some network devices) each end a line; a
 *   CRLF split across two chunks is one line end.
 * - A UTF-8 byte order mark (EF BB BF) at the start of the input is dropped.
 * - Bytes are decoded as UTF-8; invalid sequences become U+FFFD (the parsers then reject the line
 *   when the bytes were in a field they read; see `checkLine` for control bytes).
 * - A line longer than `maxLineBytes` (bytes, without its line end) is not kept: once it passes
 *   the bound its bytes are counted and dropped until the next line end, and it is yielded as
 *   `{ no, text: <first HEAD_BYTES bytes>, tooLong: <total bytes> }`, so memory stays at about
 *   maxLineBytes + one chunk whatever the line's length.
 * - `splitAfter` (set by parseLines for conntrack-xml): a line that passes the bound is cut after
 *   the last occurrence of that text (`</flow>`) within it and the part is yielded with the same
 *   line number and `part: true`, so an XML stream with all its flows on one line is read flow
 *   by flow instead of being rejected.
 */

/** Default longest line (bytes): 1 MiB. The config key `collector.maxLineBytes` overrides it. */
export const DEFAULT_MAX_LINE_BYTES = 1024 * 1024;

/**
 * Largest bound a reader accepts (bytes): 256 MiB. A kept line is decoded into one JavaScript
 * string, and V8's longest string is 2^29 - 24 code units (`buffer.constants.MAX_STRING_LENGTH` on
 * 64-bit Node.js 20): a bound past it made a longer line end the process ("Cannot create a string
 * longer than 0x1fffffe8 characters") instead of being rejected. Half of it leaves room for the
 * line's pieces and their join. A larger `maxLineBytes` is lowered to this; the CLI option and the
 * config key refuse values above it.
 */
export const MAX_LINE_BYTES_LIMIT = 256 * 1024 * 1024;

/** `requested` (bytes; DEFAULT_MAX_LINE_BYTES when undefined) as an integer in 1..MAX_LINE_BYTES_LIMIT. */
function lineBound(requested: number | undefined): number {
  const n = Math.floor(requested ?? DEFAULT_MAX_LINE_BYTES);
  return Number.isNaN(n) ? DEFAULT_MAX_LINE_BYTES : Math.min(MAX_LINE_BYTES_LIMIT, Math.max(1, n));
}

/** Bytes of an over-long line kept for its rejection sample. */
export const HEAD_BYTES = 256;

/** One line from a LineReader. */
export interface InputLine {
  /** 1-based line number (parts of one cut line share it). */
  no: number;
  /** The line, decoded, without its line end; for an over-long line only its first HEAD_BYTES bytes. */
  text: string;
  /** Set for a line over maxLineBytes: its length in bytes (the line itself was dropped). */
  tooLong?: number;
  /** Set for a part of a line cut at `splitAfter`. */
  part?: boolean;
}

/** Options of a LineReader. */
export interface LineReaderOptions {
  /** Longest line kept, in bytes (default DEFAULT_MAX_LINE_BYTES; at least 1). */
  maxLineBytes?: number;
}

const LF = 10;
const CR = 13;

/**
 * Reads lines from a byte stream (a Readable or any async iterable of Buffer/Uint8Array/string
 * chunks). Iterate it once with `for await`. `peek(n)` returns the first n bytes before
 * iteration starts (format sniffing).
 */
export class LineReader implements AsyncIterable<InputLine> {
  /** Bound in bytes for one line. */
  readonly maxLineBytes: number;
  /** Text after which an over-long line is cut into parts (see module comment); undefined: never cut. */
  splitAfter: string | undefined;
  private readonly it: AsyncIterator<Buffer | Uint8Array | string>;
  private readonly pending: Buffer[] = [];
  private ended = false;

  constructor(input: AsyncIterable<Buffer | Uint8Array | string>, opts: LineReaderOptions = {}) {
    this.maxLineBytes = lineBound(opts.maxLineBytes);
    this.it = input[Symbol.asyncIterator]();
  }

  private async pull(): Promise<Buffer | undefined> {
    const p = this.pending.shift();
    if (p !== undefined) return p;
    if (this.ended) return undefined;
    const r = await this.it.next();
    if (r.done) {
      this.ended = true;
      return undefined;
    }
    return toBuffer(r.value);
  }

  /** The first `n` bytes of the input (fewer at its end), without consuming them. */
  async peek(n: number): Promise<Buffer> {
    let have = this.pending.reduce((a, b) => a + b.length, 0);
    while (have < n && !this.ended) {
      const r = await this.it.next();
      if (r.done) {
        this.ended = true;
        break;
      }
      const b = toBuffer(r.value);
      this.pending.push(b);
      have += b.length;
    }
    return Buffer.concat(this.pending).subarray(0, n);
  }

  /** Stops reading (the input iterator's return() is called, which destroys a Readable). */
  async close(): Promise<void> {
    this.ended = true;
    this.pending.length = 0;
    await this.it.return?.();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<InputLine> {
    const sp = new LineSplitter(this.maxLineBytes);
    try {
      for (;;) {
        const chunk = await this.pull();
        if (chunk === undefined) break;
        sp.splitAfter = this.splitAfter;
        for (const l of sp.push(chunk)) yield l;
      }
      for (const l of sp.finish()) yield l;
    } finally {
      await this.close();
    }
  }
}

/**
 * The synchronous core of LineReader: push byte chunks, get the lines they complete (same rules
 * as LineReader), finish() at the end of input. For callers that read with readSync.
 */
export class LineSplitter {
  /** Text after which an over-long line is cut into parts; undefined: never cut. */
  splitAfter: string | undefined;
  private parts: Buffer[] = [];
  private len = 0;
  private dropping = -1; // bytes of the over-long line so far, or -1
  private head: Buffer = Buffer.alloc(0);
  private lineNo = 0;
  /** Bytes held at the start of input while they may still be a BOM; undefined once decided. */
  private bom: Buffer | undefined = Buffer.alloc(0);
  private skipLf = false; // last chunk ended with CR
  private out: InputLine[] = [];

  /** Bound in bytes for one line (the requested one, at most MAX_LINE_BYTES_LIMIT). */
  readonly maxLineBytes: number;

  constructor(maxLineBytes: number = DEFAULT_MAX_LINE_BYTES) {
    this.maxLineBytes = lineBound(maxLineBytes);
  }

  private append(b: Buffer): void {
    if (b.length === 0) return;
    if (this.dropping >= 0) {
      this.dropping += b.length;
      return;
    }
    const max = this.maxLineBytes;
    if (this.len + b.length <= max) {
      this.parts.push(b);
      this.len += b.length;
      return;
    }
    let buf = Buffer.concat([...this.parts, b]);
    this.parts = [];
    this.len = 0;
    if (this.splitAfter !== undefined) {
      // Cut after the last `splitAfter` within the bound; the rest stays as the line so far.
      for (;;) {
        const k = buf.subarray(0, max).lastIndexOf(this.splitAfter);
        if (k < 0) break;
        const cut = k + Buffer.byteLength(this.splitAfter);
        this.out.push({ no: this.lineNo + 1, text: buf.subarray(0, cut).toString('utf8'), part: true });
        buf = buf.subarray(cut);
        if (buf.length <= max) {
          this.parts = [Buffer.from(buf)];
          this.len = buf.length;
          return;
        }
      }
    }
    this.head = Buffer.from(buf.subarray(0, HEAD_BYTES));
    this.dropping = buf.length;
  }

  private endLine(): void {
    this.lineNo++;
    if (this.dropping >= 0) {
      this.out.push({ no: this.lineNo, text: this.head.toString('utf8'), tooLong: this.dropping });
      this.dropping = -1;
      this.head = Buffer.alloc(0);
    } else {
      const buf = this.parts.length === 1 ? this.parts[0] : Buffer.concat(this.parts);
      this.out.push({ no: this.lineNo, text: buf.toString('utf8') });
    }
    this.parts = [];
    this.len = 0;
  }

  /** Feed one chunk; returns the lines it completed. */
  push(chunk: Buffer): InputLine[] {
    if (this.bom !== undefined) {
      // A UTF-8 BOM at the start of input is dropped before any byte counts toward the line.
      const b = this.bom.length > 0 ? Buffer.concat([this.bom, chunk]) : chunk;
      if (b.length < 3 && BOM.subarray(0, b.length).equals(b)) {
        this.bom = Buffer.from(b);
        return [];
      }
      this.bom = undefined;
      chunk = b.length >= 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf ? b.subarray(3) : b;
    }
    if (chunk.length === 0) return [];
    let pos = 0;
    if (this.skipLf) {
      this.skipLf = false;
      if (chunk.length > 0 && chunk[0] === LF) pos = 1;
    }
    while (pos < chunk.length) {
      const lf = chunk.indexOf(LF, pos);
      const cr = chunk.indexOf(CR, pos);
      const e = lf < 0 ? cr : cr < 0 ? lf : Math.min(lf, cr);
      if (e < 0) {
        this.append(chunk.subarray(pos));
        break;
      }
      this.append(chunk.subarray(pos, e));
      this.endLine();
      if (chunk[e] === CR) {
        if (e + 1 < chunk.length) pos = chunk[e + 1] === LF ? e + 2 : e + 1;
        else {
          pos = e + 1;
          this.skipLf = true;
        }
      } else pos = e + 1;
    }
    const out = this.out;
    this.out = [];
    return out;
  }

  /** End of input: the last line when it had no line end. */
  finish(): InputLine[] {
    if (this.bom !== undefined && this.bom.length > 0) {
      const held = this.bom;
      this.bom = undefined;
      this.push(held);
    }
    if (this.len > 0 || this.dropping >= 0) this.endLine();
    const out = this.out;
    this.out = [];
    return out;
  }
}

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

function toBuffer(v: Buffer | Uint8Array | string): Buffer {
  return typeof v === 'string' ? Buffer.from(v, 'utf8') : Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength);
}

/** A LineReader over a file or stream of bytes. */
export function readLines(input: AsyncIterable<Buffer | Uint8Array | string>, opts: LineReaderOptions = {}): LineReader {
  return new LineReader(input, opts);
}
