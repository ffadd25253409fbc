/**
 * Test helpers of the collector's live tests (not exported from the package): a network namespace
 * made and deleted by the test, in which the kernel tracks connections.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { conntrackAvailable } from './sources.js';

const live = conntrackAvailable();

/** `skip` option of tests that need root and `conntrack`: they skip on a developer machine, never in CI (CI=true). */
export const liveSkip: string | false = live.ok || process.env.CI ? false : (live.reason ?? 'conntrack unavailable');

/**
 * `ip netns add <prefix>-<random>` with loopback up and an nft rule that uses conntrack (the
 * kernel tracks connections in a namespace only once a rule does); deleted after the test.
 */
export function conntrackNetns(t: { after(fn: () => void): void }, prefix: string): string {
  const ns = `${prefix}-${randomBytes(3).toString('hex')}`;
  const ip = (...a: string[]) => execFileSync('ip', a, { stdio: 'pipe' });
  ip('netns', 'add', ns);
  t.after(() => {
    try {
      ip('netns', 'del', ns);
    } catch {
      /* gone */
    }
  });
  ip('-n', ns, 'link', 'set', 'lo', 'up');
  execFileSync('ip', ['netns', 'exec', ns, 'nft', '-f', '-'], { input: 'table inet t {\n chain o {\n  type filter hook output priority 0;\n  ct state new counter\n }\n}\n' });
  return ns;
}
