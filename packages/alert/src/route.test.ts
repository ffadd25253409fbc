import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileRoute, globsToRegExp, groupKeyOf, namespacesOf, routeMatches } from './route.js';
import { testFinding } from './test-finding.js';

const d = { groupWaitMs: 0, groupIntervalMs: 1000 };

test('route: minimum severity — just under is left out, at it is taken', () => {
  const r = compileRoute({ minSeverity: 'high', sinks: ['s'] }, 0, d);
  assert.equal(routeMatches(r, testFinding({ severity: 'medium' })), false);
  assert.equal(routeMatches(r, testFinding({ severity: 'high' })), true);
  assert.equal(routeMatches(r, testFinding({ severity: 'critical' })), true);
});

test('route: detector globs are anchored and treat regex characters literally', () => {
  const re = globsToRegExp(['portscan.*', 'beacon.periodic']);
  assert.ok(re.test('portscan.vertical'));
  assert.ok(!re.test('xportscan.vertical'));
  assert.ok(!re.test('beaconXperiodic'), 'the dot is literal');
  const r = compileRoute({ detectors: ['bruteforce.*'], sinks: ['s'] }, 0, d);
  assert.equal(routeMatches(r, testFinding()), false);
});

test('route: namespaces from the entity or srcMeta/dstMeta; a finding with none does not match a namespace route', () => {
  const r = compileRoute({ namespaces: ['payments'], sinks: ['s'] }, 0, d);
  assert.equal(routeMatches(r, testFinding()), false);
  assert.equal(routeMatches(r, testFinding({ entity: { addr: '10.0.0.1', namespace: 'payments' } })), true);
  const viaMeta = testFinding({ evidence: { flows: 1, dstMeta: { namespace: 'payments' } } });
  assert.deepEqual(namespacesOf(viaMeta), ['payments']);
  assert.equal(routeMatches(r, viaMeta), true);
  assert.equal(routeMatches(r, testFinding({ entity: { addr: '10.0.0.1', namespace: 'web' } })), false);
});

test('route: group key of the groupBy fields, default detector/entity', () => {
  assert.equal(groupKeyOf(compileRoute({ sinks: ['s'] }, 0, d), testFinding()), 'portscan.vertical/10.0.0.66');
  assert.equal(groupKeyOf(compileRoute({ sinks: ['s'], groupBy: ['severity'] }, 0, d), testFinding()), 'high');
});
