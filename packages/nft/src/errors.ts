/**
 * Error catalog of @floe/nft (STYLE.md pattern 11): each error carries a stable `FLOE_NFT_…`
 * code. The README lists every code; a test keeps the two in step.
 */
export const NFT_ERROR_CODES = {
  /** `nft -f -` rejected a transaction; `stderr` and `scriptLine` say where. */
  APPLY_FAILED: 'FLOE_NFT_APPLY_FAILED',
  /** `nft -j list …` failed (no table yet, no permission) or printed JSON we cannot read. */
  LIST_FAILED: 'FLOE_NFT_LIST_FAILED',
  /** A target is not an IPv4/IPv6 address or CIDR prefix. */
  BAD_TARGET: 'FLOE_NFT_BAD_TARGET',
  /** The nft binary (or `ip` for a netns) could not be started. */
  UNAVAILABLE: 'FLOE_NFT_UNAVAILABLE',
} as const;
export type NftErrorCode = (typeof NFT_ERROR_CODES)[keyof typeof NFT_ERROR_CODES];

/** Details attached to an {@link NftError}. */
export interface NftErrorDetails {
  /** nft's standard error, verbatim. */
  stderr?: string;
  /** 1-based line of the submitted script that nft names (`/dev/stdin:LINE:COL: Error: …`). */
  line?: number;
  /** The text of that script line. */
  scriptLine?: string;
  /** The offending target for BAD_TARGET. */
  target?: string;
  /** Process exit code, when nft ran. */
  exitCode?: number | null;
}

/** An error from the nftables driver; `code` is one of {@link NFT_ERROR_CODES}. */
export class NftError extends Error implements NftErrorDetails {
  readonly code: NftErrorCode;
  readonly stderr?: string;
  readonly line?: number;
  readonly scriptLine?: string;
  readonly target?: string;
  readonly exitCode?: number | null;

  constructor(code: NftErrorCode, message: string, details: NftErrorDetails = {}) {
    super(message);
    this.name = 'NftError';
    this.code = code;
    Object.assign(this, details);
  }
}

/**
 * Finds the script line nft names in its error output. nft prints locations as
 * `/dev/stdin:3:34-44: Error: interval overlaps with an existing one` when it reads `-f -`
 * (seen with nftables 1.0.6). Returns the first such line number and its text in `script`.
 */
export function locateNftError(stderr: string, script: string): { line?: number; scriptLine?: string; message?: string } {
  const m = /^[^\n:]+:(\d+):\d+(?:-\d+)?: Error: (.*)$/m.exec(stderr);
  if (!m) return {};
  const line = Number(m[1]);
  const scriptLine = script.split('\n')[line - 1];
  return { line, scriptLine, message: m[2] };
}
