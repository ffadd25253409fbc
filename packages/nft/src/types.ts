/**
 * Options of the nftables driver. Defaults: {@link defaultNftOptions}.
 * Names are nft identifiers (letters, digits, `_`, `-`, `.`); they go into nft scripts verbatim.
 */
export interface NftOptions {
  /** Table name; default `floe`. The table belongs to floe alone: destroy() deletes it. */
  table: string;
  /** Table family; only `inet` (IPv4 and IPv6 in one table, nft(8) "ADDRESS FAMILIES"). */
  family: 'inet';
  /** IPv4 host set (type ipv4_addr, flags timeout: a hash set of /32s); default `blocked4`. */
  set4: string;
  /** IPv6 host set (type ipv6_addr, flags timeout: /128s); default `blocked6`. */
  set6: string;
  /**
   * IPv4 prefix set (flags interval,timeout) for prefixes shorter than /32; default `blocked4net`.
   * Hosts and prefixes are apart because nft 1.0.6 deletes from an interval set in time linear
   * in the set size (measured: 1000 deletions from a 20000-element interval set take 25 s, from
   * a hash set 0.3 s).
   */
  net4: string;
  /** IPv6 prefix set (flags interval,timeout) for prefixes shorter than /128; default `blocked6net`. */
  net6: string;
  /**
   * Priority of the input and forward base chains; default -150, before the usual filter
   * priority 0 (nft(8) "CHAINS", table of standard priority names: `filter` is 0, `mangle` -150).
   */
  chainPriority: number;
  /** Run nft inside this network namespace (`ip netns exec <ns> nft …`). */
  netns?: string;
  /** Path of the nft binary; default `nft` (looked up on PATH). */
  nftPath?: string;
  /** Most element operations in one `nft -f -` transaction; larger commits are split. Default 20000. */
  chunkSize?: number;
  /** Kill an nft process that runs longer than this (ms); default 30000. */
  execTimeoutMs?: number;
}

/** The defaults of {@link NftOptions}. */
export function defaultNftOptions(): NftOptions {
  return {
    table: 'floe',
    family: 'inet',
    set4: 'blocked4',
    set6: 'blocked6',
    net4: 'blocked4net',
    net6: 'blocked6net',
    chainPriority: -150,
    chunkSize: 20000,
    execTimeoutMs: 30000,
  };
}

/** One address or prefix to block until `expiresAt`. */
export interface BlockEntry {
  /** CIDR, e.g. `203.0.113.7/32` or `2001:db8::/64` (a bare address means a host prefix). */
  target: string;
  /** Expiry, ms since epoch. */
  expiresAt: number;
}

/**
 * The last check before a target reaches the kernel (the enforcer passes @floe/respond's
 * ProtectedSet, which has this shape): what of `target` may be blocked.
 */
export interface BlockGuard {
  /**
   * `pieces`: `[target]` when it may be blocked as is, the CIDRs of it that may (a split around
   * protected addresses), or `[]`. `reason` and `detail` say why when not `ok`. Never throws.
   */
  admit(target: string): { outcome: 'ok' | 'split' | 'held'; pieces: string[]; reason?: string; detail?: string };
}

/** An element as the kernel holds it (read back by {@link NftDriver.list}). */
export interface ListedEntry {
  /**
   * Canonical CIDR (`10.0.0.1/32`, `2001:db8::/64`); for an interval that is not one prefix
   * (added by hand as `10.0.0.1-10.0.0.5`) the range text `first-last`.
   */
  target: string;
  /** Time left before the kernel removes the element (ms; nft reports whole seconds). Absent without a timeout. */
  expiresInMs?: number;
}

/** Result of one commit: how many element additions and deletions were applied. */
export interface CommitResult {
  added: number;
  deleted: number;
}

/**
 * A blocking backend (cs-firewall-bouncer's backend shape, STYLE.md pattern 7): add and delete
 * stage, commit applies. Implementations: {@link createNftDriver} (real nftables) and
 * {@link createDryRunDriver} (in memory, records calls).
 */
export interface NftDriver {
  /** `nft` or `dry-run`. */
  readonly mode: 'nft' | 'dry-run';
  /**
   * Creates, idempotently and in one transaction, table `inet floe` with the four sets and the
   * input and forward chains that drop packets whose source address is in a set. Existing set
   * elements are kept. Throws NftError FLOE_NFT_APPLY_FAILED.
   */
  ensure(): Promise<void>;
  /** Stages blocks; a later add of the same target wins. Throws FLOE_NFT_BAD_TARGET on a bad target. */
  add(entries: BlockEntry[]): void;
  /** Stages removals of CIDRs (or `first-last` ranges from list()); absent targets are ignored at commit. */
  delete(targets: string[]): void;
  /**
   * Applies staged changes: deletions first, then additions, in one transaction per chunk.
   * Each addition gets timeout = ceil((expiresAt - now) / 1000) s (minimum 1 s); entries already
   * expired are skipped. Commit reads the sets back first (nft -j): absent deletions are
   * dropped, and an addition of a present element becomes delete+add, which refreshes its timeout
   * on every kernel (a plain add of an existing element keeps the old timeout on older kernels). Staged changes are cleared even on failure.
   * Throws NftError FLOE_NFT_APPLY_FAILED / FLOE_NFT_LIST_FAILED.
   */
  commit(): Promise<CommitResult>;
  /** Reads back what the kernel holds in floe's sets. Throws FLOE_NFT_LIST_FAILED (e.g. before ensure()). */
  list(): Promise<ListedEntry[]>;
  /** Removes floe's table, sets and chains (idempotent). */
  destroy(): Promise<void>;
}
