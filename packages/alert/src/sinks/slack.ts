import type { Finding } from '@floe/flow';
import type { SlackSinkConfig } from '../config.js';
import type { Notification, Sink } from '../types.js';
import { postJson } from './http.js';

/** Findings shown as blocks in one message; the rest are counted in a last line. */
export const SLACK_MAX_FINDINGS = 10;

/**
 * Escapes text for Slack mrkdwn (https://api.slack.com/reference/surfaces/formatting#escaping):
 * `&` → `&amp;`, `<` → `&lt;`, `>` → `&gt;`, so input cannot form links or mentions (`<!channel>`).
 */
export function slackEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function line(f: Finding): string {
  const mitre = f.mitre ? ` · ${slackEscape(f.mitre)}` : '';
  return `*${f.severity}* \`${slackEscape(f.detector)}\` ${slackEscape(f.entity.addr)}${mitre}\n${slackEscape(f.summary).slice(0, 2500)}`;
}

/** The incoming-webhook payload: `text` (notification fallback) and `blocks` (a section per finding, at most {@link SLACK_MAX_FINDINGS}). */
export function slackPayload(n: Notification): { text: string; blocks: unknown[] } {
  const head = `floe: ${n.findings.length} finding${n.findings.length === 1 ? '' : 's'} ${n.status === 'resolved' ? 'resolved' : 'raised'} (${slackEscape(n.groupKey)})`;
  const blocks: unknown[] = [{ type: 'section', text: { type: 'mrkdwn', text: `*${head}*` } }];
  for (const f of n.findings.slice(0, SLACK_MAX_FINDINGS)) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: line(f) } });
  const more = n.findings.length - SLACK_MAX_FINDINGS;
  const ids = n.findings.slice(0, SLACK_MAX_FINDINGS).map((f) => slackEscape(f.id));
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `${more > 0 ? `and ${more} more · ` : ''}finding ids: ${ids.join(', ')}` }] });
  return { text: `${head}: ${n.findings.map((f) => `${f.severity} ${slackEscape(f.detector)} ${slackEscape(f.entity.addr)}`).join('; ')}`.slice(0, 3000), blocks };
}

/** A Slack incoming webhook (https://api.slack.com/messaging/webhooks): POST of {@link slackPayload}. */
export function slackSink(name: string, cfg: SlackSinkConfig): Sink {
  return {
    name,
    type: 'slack',
    async send(n, signal) {
      await postJson(`slack ${name}`, cfg.url, JSON.stringify(slackPayload(n)), {}, cfg.timeoutMs ?? 10_000, signal);
    },
    async close() {},
  };
}
