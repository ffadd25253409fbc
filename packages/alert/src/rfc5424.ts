/**
 * Syslog messages (RFC 5424) and their framing on a stream (RFC 6587 octet counting, also what
 * RFC 5425 TLS transport uses).
 */
import type { Severity } from '@floe/flow';

/** RFC 5424 section 6.2.1 severity of a floe severity: critical 2 (crit), high 3 (err), medium 4 (warning), low 5 (notice), info 6 (informational). */
export const SYSLOG_SEVERITY: Readonly<Record<Severity, number>> = Object.freeze({ critical: 2, high: 3, medium: 4, low: 5, info: 6 });

/** A header field as RFC 5424 allows it: PRINTUSASCII (33..126), at most `max` characters, `-` (NILVALUE) when empty. */
export function headerField(s: string | undefined, max: number): string {
  const v = (s ?? '').replace(/[^\x21-\x7e]/g, '_').slice(0, max);
  return v === '' ? '-' : v;
}

/**
 * One RFC 5424 message: `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID - MSG` (no structured
 * data). PRI = facility × 8 + severity; TIMESTAMP RFC 3339 in UTC with ms; HOSTNAME ≤ 255,
 * APP-NAME ≤ 48, PROCID ≤ 128, MSGID ≤ 32 characters of PRINTUSASCII. `msg` must already be one
 * line (the CEF escaping makes it so); it is sent without a BOM (RFC 5424 6.4: then any encoding).
 */
export function syslogMessage(o: { facility: number; severity: number; at: number; hostname: string; appName: string; procId: string; msgId: string; msg: string }): string {
  const pri = o.facility * 8 + o.severity;
  return `<${pri}>1 ${new Date(o.at).toISOString()} ${headerField(o.hostname, 255)} ${headerField(o.appName, 48)} ${headerField(o.procId, 128)} ${headerField(o.msgId, 32)} - ${o.msg}`;
}

/** RFC 6587 3.4.1 octet-counting frame: `MSG-LEN SP SYSLOG-MSG`, the length in bytes of the UTF-8 message. */
export function octetCounted(msg: string): Buffer {
  const body = Buffer.from(msg, 'utf8');
  return Buffer.concat([Buffer.from(`${body.length} `, 'ascii'), body]);
}
