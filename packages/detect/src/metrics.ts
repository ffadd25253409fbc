/**
 * `floe_detect_*` metrics (STYLE.md 13), read from each detector's counters when the registry is
 * scraped: the hot path of `observe` touches no metric. Several detectors (and several instances
 * of one, as tests make) share one registry; each detector is held weakly, so a detector that is
 * dropped stops being reported.
 *
 * - `floe_detect_flows_total{detector}` — flows passed to the detector.
 * - `floe_detect_findings_total{detector,kind}` — findings emitted: `new` (raised), `update` (same
 *   id, on a doubling of the distinct count), `final` (same id, final counts when its window closed).
 * - `floe_detect_tracked_keys{detector}` — keys (source/destination pairs, source/service triples) held now.
 * - `floe_detect_open_findings{detector}` — findings raised whose window has not closed.
 * - `floe_detect_evicted_keys_total{detector,reason}` — state forgotten because a memory limit was
 *   reached (`limits.maxKeys`, `limits.maxConnections`): `max_keys` (a key with one distinct item,
 *   from probation), `max_keys_partway` (a key with two or more distinct items, part-way to its threshold: demoted from the protected segment, then evicted),
 *   `max_sources_held` (a one-shot source's held first attempt, in the scan detectors' shared gate;
 *   reported under the first scan detector), `max_connections` (a connection identity, which may
 *   then count twice; shared memory, reported under the first scan detector).
 * - `floe_detect_flows_dropped_total{detector,cause}` — attempts not counted: `late` (`windowMs` or
 *   more older than their key's window).
 */
import { Counter, Gauge, metric, type Registry } from '@floe/telemetry/lite';
import type { WindowStats } from './window.js';

/** A detector whose counters the metrics report. */
export interface StatsSource {
  readonly id: string;
  stats(): WindowStats;
}

/** Per-source counters already reported, to add only the difference at each scrape. */
interface Tracked {
  ref: WeakRef<StatsSource>;
  id: string;
  reported: Record<CounterField, number>;
}

type CounterField = 'flows' | 'raised' | 'updates' | 'finals' | 'evictedKeys' | 'evictedPartway' | 'evictedHeld' | 'evictedConnections' | 'lateFlows';

const ZERO: Readonly<Record<CounterField, number>> = Object.freeze({
  flows: 0,
  raised: 0,
  updates: 0,
  finals: 0,
  evictedKeys: 0,
  evictedPartway: 0,
  evictedHeld: 0,
  evictedConnections: 0,
  lateFlows: 0,
});

const sourcesOf = new WeakMap<Registry, Set<Tracked>>();

/** Adds to each counter what every live source counted since the last scrape; drops sources that were collected. */
function drain(registry: Registry, m: DetectMetricSet): void {
  const set = sourcesOf.get(registry);
  if (set === undefined) return;
  for (const tr of set) {
    const src = tr.ref.deref();
    if (src === undefined) {
      set.delete(tr);
      continue;
    }
    const s = src.stats();
    const d = (f: CounterField): number => {
      const v = s[f] - tr.reported[f];
      tr.reported[f] = s[f];
      return v;
    };
    const detector = tr.id;
    const flows = d('flows');
    if (flows > 0) m.flows.inc({ detector }, flows);
    for (const [kind, f] of [
      ['new', 'raised'],
      ['update', 'updates'],
      ['final', 'finals'],
    ] as const) {
      const v = d(f);
      if (v > 0) m.findings.inc({ detector, kind }, v);
    }
    const ek = d('evictedKeys');
    const ep = d('evictedPartway');
    if (ek - ep > 0) m.evicted.inc({ detector, reason: 'max_keys' }, ek - ep);
    if (ep > 0) m.evicted.inc({ detector, reason: 'max_keys_partway' }, ep);
    const eh = d('evictedHeld');
    if (eh > 0) m.evicted.inc({ detector, reason: 'max_sources_held' }, eh);
    const ec = d('evictedConnections');
    if (ec > 0) m.evicted.inc({ detector, reason: 'max_connections' }, ec);
    const late = d('lateFlows');
    if (late > 0) m.dropped.inc({ detector, cause: 'late' }, late);
  }
}

/** Sets each gauge to the sum over the live sources of one detector id. */
function gauges(registry: Registry, g: Gauge, field: 'keys' | 'openFindings'): void {
  const set = sourcesOf.get(registry);
  if (set === undefined) return;
  const sum = new Map<string, number>();
  for (const tr of set) {
    const src = tr.ref.deref();
    if (src !== undefined) sum.set(tr.id, (sum.get(tr.id) ?? 0) + src.stats()[field]);
  }
  g.reset();
  for (const [detector, v] of sum) g.set({ detector }, v);
}

interface DetectMetricSet {
  flows: Counter;
  findings: Counter;
  evicted: Counter;
  dropped: Counter;
}

/**
 * Registers the `floe_detect_*` metrics on `registry` (once per registry) and reports `source`'s
 * counters there from now on, for as long as `source` is alive.
 */
export function trackDetectorMetrics(registry: Registry, source: StatsSource): void {
  let set = sourcesOf.get(registry);
  if (set === undefined) {
    set = new Set();
    sourcesOf.set(registry, set);
  }
  set.add({ ref: new WeakRef(source), id: source.id, reported: { ...ZERO } });
  let m: DetectMetricSet;
  // The counters are filled from the sources when any of them is collected.
  const collect = () => drain(registry, m);
  m = {
    flows: metric(
      registry,
      'floe_detect_flows_total',
      () =>
        new Counter({
          name: 'floe_detect_flows_total',
          help: 'Flows passed to each detector.',
          labelNames: ['detector'],
          registers: [registry],
          collect,
        }),
    ),
    findings: metric(
      registry,
      'floe_detect_findings_total',
      () =>
        new Counter({
          name: 'floe_detect_findings_total',
          help: 'Findings emitted by each detector: new (raised), update (on a doubling), final (final counts when the window closed).',
          labelNames: ['detector', 'kind'],
          registers: [registry],
          collect,
        }),
    ),
    evicted: metric(
      registry,
      'floe_detect_evicted_keys_total',
      () =>
        new Counter({
          name: 'floe_detect_evicted_keys_total',
          help: 'Detector state forgotten because a memory limit was reached: max_keys (a key with one distinct item), max_keys_partway (a key part-way to its threshold), max_sources_held (a one-shot source held by the scan detectors), max_connections (a connection identity).',
          labelNames: ['detector', 'reason'],
          registers: [registry],
          collect,
        }),
    ),
    dropped: metric(
      registry,
      'floe_detect_flows_dropped_total',
      () =>
        new Counter({
          name: 'floe_detect_flows_dropped_total',
          help: "Connection attempts a detector did not count, by cause (late: older than its key's window).",
          labelNames: ['detector', 'cause'],
          registers: [registry],
          collect,
        }),
    ),
  };
  metric(
    registry,
    'floe_detect_tracked_keys',
    () =>
      new Gauge({
        name: 'floe_detect_tracked_keys',
        help: 'Keys each detector holds now (source/destination pairs, source/service triples).',
        labelNames: ['detector'],
        registers: [registry],
        collect() {
          gauges(registry, this, 'keys');
        },
      }),
  );
  metric(
    registry,
    'floe_detect_open_findings',
    () =>
      new Gauge({
        name: 'floe_detect_open_findings',
        help: 'Findings raised whose window has not closed yet.',
        labelNames: ['detector'],
        registers: [registry],
        collect() {
          gauges(registry, this, 'openFindings');
        },
      }),
  );
}
