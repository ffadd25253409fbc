/**
 * Test helpers (not exported from the package): network namespaces created and deleted by the
 * tests themselves, and a shell-out that throws on failure.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

/** Runs a command and returns its stdout; throws with stderr on a non-zero exit. */
export function sh(cmd: string, args: string[], input?: string): string {
  return execFileSync(cmd, args, { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'] });
}

/** Creates `ip netns add <prefix>-<random>` with loopback up; returns its name. */
export function createNetns(prefix = 'floe-nft-test'): string {
  const name = `${prefix}-${randomBytes(4).toString('hex')}`;
  sh('ip', ['netns', 'add', name]);
  sh('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
  return name;
}

/** Deletes a namespace made by {@link createNetns}; ignores one already gone. */
export function deleteNetns(name: string): void {
  try {
    sh('ip', ['netns', 'del', name]);
  } catch {
    /* already gone */
  }
}

/** Runs `nft ARGS` inside namespace `ns` (script on stdin when given). */
export function nftIn(ns: string, args: string[], input?: string): string {
  return sh('ip', ['netns', 'exec', ns, 'nft', ...args], input);
}

/** True when this process can create namespaces and run nft (root with both tools). */
export function canUseNetns(): boolean {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return false;
  try {
    sh('nft', ['--version']);
    sh('ip', ['-V']);
    return true;
  } catch {
    return false;
  }
}
