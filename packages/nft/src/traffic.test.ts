import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createNftDriver } from './driver.js';
import { canUseNetns, createNetns, deleteNetns, sh } from './netns-testutil.js';

const skip = !canUseNetns() && !process.env.CI ? 'needs root, nft and ip netns' : false;

// A TCP connect from namespace `ns`, bound to `from`; 'ok' or 'timeout' (1.5 s) or the error code.
const CLIENT = `
const s = require('node:net').connect({ host: process.argv[1], port: Number(process.argv[2]), localAddress: process.argv[3] });
s.setTimeout(1500, () => { console.log('timeout'); process.exit(0); });
s.on('connect', () => { s.end(); console.log('ok'); process.exit(0); });
s.on('error', (e) => { console.log(e.code); process.exit(0); });`;

function connect(ns: string, host: string, port: number, from: string): string {
  const r = spawnSync('ip', ['netns', 'exec', ns, process.execPath, '-e', CLIENT, host, String(port), from], { encoding: 'utf8' });
  return r.stdout.trim();
}

test('traffic: a blocked source cannot open new connections, an unblocked one still can', { skip }, async (t) => {
  const srv = createNetns('floe-nft-test-srv');
  t.after(() => deleteNetns(srv));
  const cli = createNetns('floe-nft-test-cli');
  t.after(() => deleteNetns(cli));
  const id = randomBytes(3).toString('hex');
  const [a, b] = [`fva${id}`, `fvb${id}`];
  sh('ip', ['link', 'add', a, 'netns', srv, 'type', 'veth', 'peer', 'name', b, 'netns', cli]);
  sh('ip', ['-n', srv, 'addr', 'add', '10.99.0.1/24', 'dev', a]);
  sh('ip', ['-n', cli, 'addr', 'add', '10.99.0.2/24', 'dev', b]);
  sh('ip', ['-n', cli, 'addr', 'add', '10.99.0.3/24', 'dev', b]);
  sh('ip', ['-n', srv, 'link', 'set', a, 'up']);
  sh('ip', ['-n', cli, 'link', 'set', b, 'up']);

  const server = spawn('ip', [
    'netns',
    'exec',
    srv,
    process.execPath,
    '-e',
    `const s = require('node:net').createServer((c) => c.end()); s.listen(0, '10.99.0.1', () => console.log(s.address().port));`,
  ]);
  t.after(() => server.kill());
  const [first] = (await once(server.stdout, 'data')) as [Buffer];
  const port = Number(first.toString().trim());
  assert.ok(port > 0);

  assert.equal(connect(cli, '10.99.0.1', port, '10.99.0.2'), 'ok');
  assert.equal(connect(cli, '10.99.0.1', port, '10.99.0.3'), 'ok');

  const driver = createNftDriver({ netns: srv });
  await driver.ensure();
  driver.add([{ target: '10.99.0.2/32', expiresAt: Date.now() + 600_000 }]);
  await driver.commit();
  assert.equal(connect(cli, '10.99.0.1', port, '10.99.0.2'), 'timeout');
  assert.equal(connect(cli, '10.99.0.1', port, '10.99.0.3'), 'ok');

  const counters = sh('ip', ['netns', 'exec', srv, 'nft', 'list', 'chain', 'inet', 'floe', 'input']);
  assert.match(counters, /ip saddr @blocked4 counter packets [1-9]\d* bytes \d+ drop/);

  driver.delete(['10.99.0.2/32']);
  await driver.commit();
  assert.equal(connect(cli, '10.99.0.1', port, '10.99.0.2'), 'ok');
});
