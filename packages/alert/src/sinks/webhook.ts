import type { WebhookSinkConfig } from '../config.js';
import { signBody, SIGNATURE_HEADER } from '../sign.js';
import type { Notification, Sink } from '../types.js';
import { postJson } from './http.js';

/** The webhook's JSON body (schema 1): the notification with RFC 3339 `sentAt`. */
export interface WebhookBody {
  schema: 1;
  source: 'floe';
  route: string;
  groupKey: string;
  status: 'firing' | 'resolved';
  sentAt: string;
  findings: Notification['findings'];
}

/**
 * A generic webhook: POST of {@link WebhookBody}, signed at each attempt (a fresh `t`) with
 * header `floe-signature` (sign.ts).
 */
export function webhookSink(name: string, cfg: WebhookSinkConfig, secret: string, now: () => number): Sink {
  return {
    name,
    type: 'webhook',
    async send(n, signal) {
      const body: WebhookBody = { schema: 1, source: 'floe', route: n.route, groupKey: n.groupKey, status: n.status, sentAt: new Date(now()).toISOString(), findings: n.findings };
      const text = JSON.stringify(body);
      await postJson(`webhook ${name}`, cfg.url, text, { [SIGNATURE_HEADER]: signBody(secret, text, Math.floor(now() / 1000)) }, cfg.timeoutMs ?? 10_000, signal);
    },
    async close() {},
  };
}
