import type { CompiledPolicy } from '@floe/policy';
import type { Store } from '@floe/store';
import { Counter, metric, type Logger, noopLogger, type Registry } from '@floe/telemetry';
import { Cron } from 'croner';
import type { KeptReport, ReportArchive } from './archive.js';
import { buildReport } from './build.js';
import { REPORT_ERROR_CODES, ReportError } from './errors.js';
import { REPORT_FORMATS, type ReportFormat } from './render.js';

/** One scheduled report (config `report.schedules[]`). */
export interface ReportSchedule {
  /** 1..64 of `A-Z a-z 0-9 . _ -`; written in the index as `schedule`. */
  name: string;
  /** A 5-field cron expression (croner syntax, UTC): `0 6 * * *` = every day at 06:00 UTC. */
  cron?: string;
  /** Or a fixed interval (ms, at least 60 000). */
  everyMs?: number;
  /** Length of the period ending at each run (ms). */
  rangeMs: number;
  formats: ReportFormat[];
  namespaces: string[];
  zones: string[];
}

/** What a scheduler needs. */
export interface ReportSchedulerDeps {
  store: Store;
  /** The policy that judges the flows (the processor's, or loadCompiledPolicy). */
  policy: CompiledPolicy;
  archive: ReportArchive;
  cluster?: string;
  logger?: Logger;
  /** Registers `floe_report_runs_total{schedule,result}`. */
  metrics?: Registry;
  now?: () => number;
}

/** Started schedules; `runNow` makes one report at once (tests, an operator). */
export interface ReportScheduler {
  start(): void;
  /** Stops every timer; safe twice and before start. Waits for a run in progress. */
  stop(): Promise<void>;
  /**
   * Builds and keeps the report of schedule `name` for the period ending now (rounded down to the minute).
   * @throws ReportError FLOE_REPORT_BAD_SCHEDULE for an unknown name; build and store errors.
   */
  runNow(name: string): Promise<KeptReport>;
}

/**
 * Checks schedules: unique names, exactly one of `cron` (valid, UTC) and `everyMs` (>= 60 s),
 * rangeMs >= 60 s, known formats.
 * @throws ReportError FLOE_REPORT_BAD_SCHEDULE naming the schedule and the problem.
 */
export function checkSchedules(list: readonly ReportSchedule[]): void {
  const seen = new Set<string>();
  for (const s of list) {
    const bad = (m: string): never => {
      throw new ReportError(REPORT_ERROR_CODES.BAD_SCHEDULE, `report schedule ${JSON.stringify(s.name).slice(0, 70)}: ${m}`);
    };
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(s.name)) bad('name must be 1..64 of A-Z a-z 0-9 . _ -');
    if (seen.has(s.name)) bad('the name is used twice');
    seen.add(s.name);
    if ((s.cron === undefined) === (s.everyMs === undefined)) bad('give exactly one of cron and everyMs');
    if (s.cron !== undefined) {
      if (s.cron.trim().split(/\s+/).length !== 5) bad(`cron ${JSON.stringify(s.cron).slice(0, 60)} must have 5 fields (minute hour day month weekday)`);
      try {
        new Cron(s.cron, { paused: true, timezone: 'UTC' }).stop();
      } catch (e) {
        bad(`cron ${JSON.stringify(s.cron).slice(0, 60)}: ${(e as Error).message}`);
      }
    }
    if (s.everyMs !== undefined && !(Number.isInteger(s.everyMs) && s.everyMs >= 60_000)) bad('everyMs must be an integer of at least 60000');
    if (!(Number.isInteger(s.rangeMs) && s.rangeMs >= 60_000)) bad('rangeMs must be an integer of at least 60000');
    if (s.formats.length === 0 || s.formats.some((f) => !(REPORT_FORMATS as readonly string[]).includes(f))) bad(`formats must be some of ${REPORT_FORMATS.join(', ')}`);
  }
}

/**
 * Creates the report scheduler: each schedule runs on its cron (croner, UTC) or interval, builds
 * the report of the `rangeMs` before the run and keeps it in the archive. A failed run is logged
 * and counted (`floe_report_runs_total{result="error"}`), never thrown. Inert until start().
 * @throws ReportError FLOE_REPORT_BAD_SCHEDULE (checkSchedules).
 */
export function createReportScheduler(schedules: readonly ReportSchedule[], deps: ReportSchedulerDeps): ReportScheduler {
  checkSchedules(schedules);
  const log = (deps.logger ?? noopLogger).child({ component: 'report' });
  const now = deps.now ?? Date.now;
  const runs = deps.metrics
    ? metric(
        deps.metrics,
        'floe_report_runs_total',
        () =>
          new Counter({
            name: 'floe_report_runs_total',
            help: 'Scheduled compliance report runs, by schedule and result (ok, error)',
            labelNames: ['schedule', 'result'] as const,
            registers: [deps.metrics as Registry],
          }),
      )
    : undefined;
  const timers: Array<{ stop(): void }> = [];
  const inFlight = new Set<Promise<unknown>>();

  async function run(s: ReportSchedule): Promise<KeptReport> {
    const to = Math.floor(now() / 60_000) * 60_000;
    const scope: { namespaces: string[]; zones: string[]; cluster?: string } = { namespaces: s.namespaces, zones: s.zones };
    if (deps.cluster !== undefined) scope.cluster = deps.cluster;
    const report = await buildReport(deps.store, { from: to - s.rangeMs, to, policy: deps.policy, scope, now, title: `floe network compliance report (${s.name})` });
    return deps.archive.save(report, s.formats, s.name);
  }
  function fire(s: ReportSchedule): void {
    const p = run(s).then(
      (k) => {
        runs?.inc({ schedule: s.name, result: 'ok' });
        log.info({ schedule: s.name, id: k.id, completeness: k.completeness, formats: k.formats }, 'scheduled report kept');
      },
      (err: unknown) => {
        runs?.inc({ schedule: s.name, result: 'error' });
        log.error({ err, schedule: s.name }, 'scheduled report failed');
      },
    );
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
  }

  return {
    start() {
      if (timers.length) return;
      for (const s of schedules) {
        if (s.cron !== undefined) {
          const c = new Cron(s.cron, { timezone: 'UTC', protect: true }, () => fire(s));
          timers.push(c);
        } else {
          const h = setInterval(() => fire(s), s.everyMs);
          timers.push({ stop: () => clearInterval(h) });
        }
      }
      log.info({ schedules: schedules.map((s) => s.name) }, 'report schedules started');
    },
    async stop() {
      for (const t of timers.splice(0)) t.stop();
      await Promise.allSettled([...inFlight]);
    },
    runNow(name) {
      const s = schedules.find((x) => x.name === name);
      if (!s) return Promise.reject(new ReportError(REPORT_ERROR_CODES.BAD_SCHEDULE, `no report schedule ${JSON.stringify(name).slice(0, 70)}`));
      return run(s);
    },
  };
}
