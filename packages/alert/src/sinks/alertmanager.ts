import type { Finding } from '@floe/flow';
import type { AlertmanagerSinkConfig } from '../config.js';
import type { Notification, Sink } from '../types.js';
import { postJson } from './http.js';

/** One alert of Alertmanager's v2 API (api/v2/openapi.yaml, `postableAlert`). */
export interface PostableAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL?: string;
}

/** The alert's name label. */
export const ALERTNAME = 'FloeFinding';

/** Labels Alertmanager identifies (de-duplicates) an alert by: alertname, detector, severity, entity, and namespace when known. */
export function alertLabels(f: Finding): Record<string, string> {
  const l: Record<string, string> = { alertname: ALERTNAME, detector: f.detector, severity: f.severity, entity: f.entity.addr };
  if (f.entity.namespace) l.namespace = f.entity.namespace;
  return l;
}

/**
 * The alert of a finding. `endsAt`: when resolved, `at`; while firing, `at + validForMs` (the sink
 * passes 3 × the re-send interval), so Alertmanager resolves it by itself once floe stops re-sending
 * — as Prometheus does with its own alerts (`ValidUntil`, 4 × the resend delay).
 */
export function toAlert(f: Finding, at: number, resolved: boolean, validForMs: number, generatorUrl?: string): PostableAlert {
  const a: PostableAlert = {
    labels: alertLabels(f),
    annotations: {
      summary: f.summary,
      findingId: f.id,
      score: String(f.score),
      flows: String(f.evidence.flows),
      lastSeen: new Date(f.lastSeen).toISOString(),
      producedBy: f.producedBy,
      ...(f.mitre ? { mitre: f.mitre } : {}),
    },
    startsAt: new Date(Math.min(f.firstSeen, at)).toISOString(),
    endsAt: new Date(resolved ? at : at + validForMs).toISOString(),
  };
  if (generatorUrl) a.generatorURL = generatorUrl.includes('{id}') ? generatorUrl.replace('{id}', encodeURIComponent(f.id)) : generatorUrl;
  return a;
}

const keyOf = (f: Finding) => JSON.stringify(alertLabels(f));

/**
 * Prometheus Alertmanager v2 (POST `<url>/api/v2/alerts`). Keeps the alerts it was given active:
 * re-sends each every `resendIntervalMs` with its latest form, and sends it once more with
 * `endsAt` = now when its episode ended (`end`, the finding's final form) or no update came for
 * `resolveAfterMs`.
 */
export function alertmanagerSink(name: string, cfg: AlertmanagerSinkConfig, timing: { resendIntervalMs: number; resolveAfterMs: number }, now: () => number = Date.now): Sink {
  const url = `${cfg.url.replace(/\/+$/, '')}/api/v2/alerts`;
  const validFor = 3 * timing.resendIntervalMs;
  /** Alerts notified at least once, by label set: latest form, last update, last send. */
  const active = new Map<string, { f: Finding; updatedAt: number; sentAt: number; notified: boolean; ended: boolean }>();
  const byId = new Map<string, string>();
  return {
    name,
    type: 'alertmanager',
    async send(n, signal) {
      const resolved = n.status === 'resolved';
      // a firing alert is valid from the moment it is sent (a redelivery after an outage included)
      const at = resolved ? n.at : now();
      const body = n.findings.map((f) => toAlert(f, at, resolved, validFor, cfg.generatorUrl));
      await postJson(`alertmanager ${name}`, url, JSON.stringify(body), {}, cfg.timeoutMs ?? 10_000, signal);
      for (const f of n.findings) {
        const a = active.get(keyOf(f));
        if (!a) continue;
        a.notified = true;
        a.sentAt = at;
        if (resolved) {
          active.delete(keyOf(f));
          byId.delete(f.id);
        }
      }
    },
    track(f, at) {
      const k = keyOf(f);
      const a = active.get(k);
      if (a) {
        a.f = f;
        a.updatedAt = at;
        a.ended = false;
      } else active.set(k, { f, updatedAt: at, sentAt: at, notified: false, ended: false });
      byId.set(f.id, k);
    },
    end(findingId) {
      const k = byId.get(findingId);
      const a = k === undefined ? undefined : active.get(k);
      if (a) a.ended = true;
    },
    tick(now) {
      const resend: Finding[] = [];
      const resolve: Finding[] = [];
      for (const a of active.values()) {
        if (!a.notified) continue; // the first send is the route's, after its group wait
        if (a.ended || now - a.updatedAt >= timing.resolveAfterMs) resolve.push(a.f);
        else if (now - a.sentAt >= timing.resendIntervalMs) {
          a.sentAt = now; // one re-send queued at a time
          resend.push(a.f);
        }
      }
      const out: Notification[] = [];
      if (resend.length) out.push({ route: '-', groupKey: 'resend', status: 'firing', findings: resend, at: now });
      if (resolve.length) {
        for (const f of resolve) {
          const a = active.get(keyOf(f));
          if (a) a.notified = false; // not resolved twice while the resolution is queued
        }
        out.push({ route: '-', groupKey: 'resolve', status: 'resolved', findings: resolve, at: now });
      }
      return out;
    },
    async close() {},
  };
}
