import assert from 'node:assert/strict';
import { it } from 'node:test';
import { IpIndex } from './ipindex.js';

const same = (a: string, b: string) => a === b;

it('IpIndex: grace boundary (just under, at, just over), reuse, flap, bounded tenancies', () => {
  const ix = new IpIndex<string>({ graceMs: 1000, maxTenancies: 2 });
  ix.hold('10.0.0.1', 'a', 100, same);
  ix.release('10.0.0.1', 500, (h) => h === 'a');
  assert.equal(ix.lookup('10.0.0.1', 99), undefined, 'before the start');
  assert.equal(ix.lookup('10.0.0.1', 1499), 'a', 'just under the grace end');
  assert.equal(ix.lookup('10.0.0.1', 1500), 'a', 'at the grace end');
  assert.equal(ix.lookup('10.0.0.1', 1501), undefined, 'just over');
  ix.hold('10.0.0.1', 'a', 600, same);
  assert.equal(ix.tenancies('10.0.0.1').length, 1, 'the same holder back within the grace reopens its tenancy');
  assert.equal(ix.current('10.0.0.1'), 'a');
  ix.hold('10.0.0.1', 'b', 700, same);
  assert.deepEqual(
    ix.tenancies('10.0.0.1'),
    [
      { holder: 'b', from: 700 },
      { holder: 'a', from: 100, to: 700 },
    ],
    'a new holder ends the open tenancy',
  );
  ix.hold('10.0.0.1', 'c', 650, same);
  assert.deepEqual(
    ix.tenancies('10.0.0.1').map((x) => [x.holder, x.from]),
    [
      ['c', 700],
      ['b', 700],
    ],
    'no start before the previous release; at most maxTenancies kept',
  );
  assert.equal(ix.prune(10_000), 1);
  assert.equal(ix.size, 1);
});
