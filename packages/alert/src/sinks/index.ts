import { readFileSync } from 'node:fs';
import type { AlertConfig, SinkConfig } from '../config.js';
import { AlertError } from '../errors.js';
import type { Sink } from '../types.js';
import { alertmanagerSink } from './alertmanager.js';
import { slackSink } from './slack.js';
import { syslogSink } from './syslog.js';
import { webhookSink } from './webhook.js';

export { alertmanagerSink, alertLabels, toAlert, ALERTNAME, type PostableAlert } from './alertmanager.js';
export { slackSink, slackPayload, slackEscape, SLACK_MAX_FINDINGS } from './slack.js';
export { syslogSink, syslogLines, DEFAULT_FACILITY } from './syslog.js';
export { webhookSink, type WebhookBody } from './webhook.js';

function readFile(sink: string, key: string, file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new AlertError('FLOE_ALERT_BAD_CONFIG', `alert.sinks.${sink}.${key}: cannot read (${(e as NodeJS.ErrnoException).code ?? 'error'})`, { cause: e });
  }
}

/**
 * Builds one sink of the configuration, reading its secret and TLS files.
 * @throws AlertError FLOE_ALERT_BAD_CONFIG (a webhook without exactly one of secret / secretFile, an unreadable file).
 */
export function createSink(
  name: string,
  cfg: SinkConfig,
  o: { hostname: string; version: string; now: () => number; timing: Pick<AlertConfig, 'resendIntervalMs' | 'resolveAfterMs'> },
): Sink {
  switch (cfg.type) {
    case 'webhook': {
      if ((cfg.secret === undefined) === (cfg.secretFile === undefined))
        throw new AlertError('FLOE_ALERT_BAD_CONFIG', `alert.sinks.${name}: a webhook needs exactly one of secret and secretFile`);
      const secret = cfg.secret ?? readFile(name, 'secretFile', cfg.secretFile as string).trim();
      if (secret.length < 16) throw new AlertError('FLOE_ALERT_BAD_CONFIG', `alert.sinks.${name}: the webhook secret must have at least 16 characters`);
      return webhookSink(name, cfg, secret, o.now);
    }
    case 'slack':
      return slackSink(name, cfg);
    case 'syslog':
      return syslogSink(
        name,
        cfg,
        {
          ca: cfg.caFile ? readFile(name, 'caFile', cfg.caFile) : undefined,
          cert: cfg.certFile ? readFile(name, 'certFile', cfg.certFile) : undefined,
          key: cfg.keyFile ? readFile(name, 'keyFile', cfg.keyFile) : undefined,
        },
        o,
      );
    case 'alertmanager':
      return alertmanagerSink(name, cfg, o.timing, o.now);
  }
}
