/**
 * Test helpers of the enforcer's tests (not exported from the package): root and nft detection,
 * network namespaces made and deleted by the test, nft inside them, and the kernel's view.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { Decision } from '@floe/flow';
import { createNftDriver } from '@floe/nft';

/** True when this process is root and `nft` runs. */
export const rootOk: boolean = (() => {
  try {
    return process.getuid?.() === 0 && execFileSync('nft', ['--version']).length > 0;
  } catch {
    return false;
  }
})();

/** `skip` option of tests that need root and nft: they skip on a developer machine, never in CI (CI=true). */
export const skip: string | false = !rootOk && !process.env.CI ? 'needs root and nft' : false;

/** `ip netns add <prefix>-<random>`, deleted after the test. */
export function netns(t: { after(fn: () => void): void }, prefix = 'floe-enf-test'): string {
  const ns = `${prefix}-${randomBytes(4).toString('hex')}`;
  execFileSync('ip', ['netns', 'add', ns]);
  t.after(() => execFileSync('ip', ['netns', 'del', ns]));
  return ns;
}

/** `nft ARGS` inside namespace `ns`; returns stdout. */
export function nft(ns: string, ...args: string[]): string {
  return execFileSync('ip', ['netns', 'exec', ns, 'nft', ...args], { encoding: 'utf8' });
}

/** Kernel view: sorted canonical targets in floe's sets of namespace `ns`, read back with nft -j. */
export async function kernel(ns: string): Promise<string[]> {
  return (await createNftDriver({ netns: ns }).list()).map((e) => e.target).sort();
}

/** One hour in ms. */
export const HOUR = 3_600_000;

/** A block decision of `target` for one hour from now, with `over` on top. */
export function decision(target: string, over: Partial<Decision> = {}): Decision {
  const now = Date.now();
  return {
    schema: 1,
    target,
    action: 'block',
    scope: 'all',
    durationMs: HOUR,
    expiresAt: now + HOUR,
    origin: 'api:test',
    reason: 'test',
    count: 1,
    dryRun: false,
    createdAt: now,
    updatedAt: now,
    ...over,
  };
}
