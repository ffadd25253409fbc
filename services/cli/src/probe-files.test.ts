/**
 * Issue 6 adversarial probe, file classes: every file floe reads by path from configuration
 * (config, policy, inventory, blocklist, api.tokenFile) is refused when it is not a regular file
 * (device, FIFO, directory) or too large, with one line naming it and exit 2 (policy check: 1);
 * YAML alias bombs give one line, no stack; blocklist errors never echo a file's content beyond a
 * short escaped excerpt, and a file that is clearly not a blocklist is reported once with a count.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));
const SAMPLE = fileURLToPath(new URL('../samples/conntrack-nmap-top100-scan.log', import.meta.url));

function floe(args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, ['--conditions=floe-source', '--import', 'tsx', MAIN, ...args], {
    encoding: 'utf8',
    env: { ...process.env, FLOE_LOG_LEVEL: 'warn', ...env },
    timeout: 60_000,
    maxBuffer: 1 << 26,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const dir = mkdtempSync(join(tmpdir(), 'floe-probe-files-'));
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};
const fifo = (() => {
  const p = join(dir, 'fifo');
  spawnSync('mkfifo', [p]);
  return p;
})();
/** Inputs that are not regular files: a character device, a FIFO (would block a plain open) and a directory. */
const NOT_REGULAR = ['/dev/zero', fifo, dir];
const BOMB = ['a: &a ["x","x","x","x","x","x","x","x","x"]', ...'bcdefg'.split('').map((c, i) => `${c}: &${c} [${Array(9).fill(`*${'abcdefg'[i]}`).join(',')}]`)].join('\n');
const oneLine = (s: string) => s.trim().split('\n').length === 1;

test('probe: non-regular files by path (device, FIFO, directory) -> one line naming the file, exit 2', () => {
  for (const p of NOT_REGULAR) {
    const tok = floe(['run', '--replay', SAMPLE, '--speed', 'max', '--exit-after-replay', '--api-port', '0', '--store', ':memory:'], { FLOE_API_TOKEN_FILE: p });
    assert.equal(tok.code, 2, tok.stderr);
    assert.ok(tok.stderr.includes(`api.tokenFile ${p}: cannot read: not a regular file`), tok.stderr);
    const cfg = floe(['config', '--print', '-c', p]);
    assert.equal(cfg.code, 2, cfg.stderr);
    assert.ok(cfg.stderr.includes(`${p}: cannot read: not a regular file`), cfg.stderr);
    const pc = floe(['policy', 'check', p]);
    assert.equal(pc.code, 1, pc.stderr);
    assert.equal(pc.stderr.trim(), `${p}: cannot read: not a regular file`);
    for (const flag of ['--policy', '--inventory']) {
      const a = floe(['analyze', SAMPLE, flag, p]);
      assert.equal(a.code, 2, a.stderr);
      assert.ok(oneLine(a.stderr) && a.stderr.includes(`cannot read ${p}: not a regular file`), a.stderr);
    }
    const bl = floe(['policy', 'check', file('bl-policy.yaml', `version: 1\nblocklists:\n  files: [${JSON.stringify(p)}]\n`)]);
    assert.equal(bl.code, 1, bl.stderr);
    assert.ok(bl.stderr.includes(`cannot read blocklist ${p}: not a regular file`), bl.stderr);
  }
});

test('probe: a token file over 8 KiB is refused unread; the YAML alias bomb gives one line, no stack, in config, policy and inventory', () => {
  const big = file('token', 'a'.repeat(9000));
  const tok = floe(['run', '--replay', SAMPLE, '--speed', 'max', '--exit-after-replay', '--api-port', '0', '--store', ':memory:'], { FLOE_API_TOKEN_FILE: big });
  assert.equal(tok.code, 2);
  assert.ok(tok.stderr.includes(`api.tokenFile ${big}: cannot read: larger than 8192 bytes`), tok.stderr);
  const bomb = file('bomb.yaml', BOMB);
  const cfg = floe(['config', '--print', '-c', bomb]);
  assert.equal(cfg.code, 2);
  assert.match(cfg.stderr, /bomb\.yaml: Excessive alias count/);
  const pc = floe(['policy', 'check', bomb]);
  assert.equal(pc.code, 1);
  assert.match(pc.stderr, /bomb\.yaml:1:1 : Excessive alias count .*\[FLOE_POLICY_YAML_SYNTAX\]/);
  for (const flag of ['--policy', '--inventory']) {
    const a = floe(['analyze', SAMPLE, flag, bomb]);
    assert.equal(a.code, 2);
    assert.match(a.stderr, /bomb\.yaml:1:1 \(document\): Excessive alias count/);
  }
  for (const r of [cfg, pc]) assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
});

test('probe: blocklist errors echo at most 40 escaped characters; a file that is mostly not CIDRs is reported once with a count', () => {
  const secret = file('shadow', 'root:$6$secrethash:20228:0:99999:7:::\ndaemon:*:1:0\nbin:*:2:0\n10.1.0.0/16\n');
  const r = floe(['policy', 'check', file('p1.yaml', `version: 1\nblocklists:\n  files: [${secret}]\n`)]);
  assert.equal(r.code, 1);
  assert.ok(r.stderr.includes(`${secret}:1:1 blocklists.files[0]: not a blocklist: 3 of 4 lines are not a CIDR`), r.stderr);
  assert.doesNotMatch(r.stderr, /secrethash|daemon/);
  const hostile = file('bl.txt', `10.0.0.0/8\n\u202eevil\n\u001b[31mred\n${'x'.repeat(200_000)}\n10.2.0.0/16\n10.3.0.0/16\n`);
  const h = floe(['policy', 'check', file('p2.yaml', `version: 1\nblocklists:\n  files: [${hostile}]\n`)]);
  assert.equal(h.code, 1);
  assert.ok(h.stderr.includes('invalid CIDR "\\u{202e}evil"'), h.stderr);
  assert.ok(h.stderr.includes('invalid CIDR "\\x1b[31mred"'), h.stderr);
  assert.ok(h.stderr.includes(`invalid CIDR "${'x'.repeat(40)}"…(200000 chars)`), h.stderr);
  assert.ok(h.stderr.length < 2000, 'the long line is not echoed');
  assert.doesNotMatch(h.stderr, /[\u001b\u0080-\u009f\u202a-\u202e]/);
});
