import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect as tcpConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { SyslogSinkConfig } from '../config.js';
import { findingToCef } from '../cef.js';
import { AlertError } from '../errors.js';
import { octetCounted, syslogMessage, SYSLOG_SEVERITY } from '../rfc5424.js';
import type { Notification, Sink } from '../types.js';

/** TLS material read at start (PEM). */
export interface SyslogTls {
  ca?: string;
  cert?: string;
  key?: string;
}

/** Default RFC 5424 facility: 10, security/authorization messages (authpriv). */
export const DEFAULT_FACILITY = 10;

/** The RFC 5424 lines of a notification: one per finding, MSGID `finding` (or `resolved`), MSG its CEF line. */
export function syslogLines(n: Notification, o: { facility: number; hostname: string; version: string; procId: string }): string[] {
  return n.findings.map((f) =>
    syslogMessage({
      facility: o.facility,
      severity: SYSLOG_SEVERITY[f.severity],
      at: n.at,
      hostname: o.hostname,
      appName: 'floe',
      procId: o.procId,
      msgId: n.status === 'resolved' ? 'resolved' : 'finding',
      msg: findingToCef(f, o.version),
    }),
  );
}

/**
 * Syslog with a CEF payload: UDP (RFC 5426, one message per datagram), TCP with octet-counting
 * frames (RFC 6587 3.4.1) or TLS (RFC 5425, the same frames). The stream connection is opened on
 * first use and kept; after an error it is dropped and the next attempt reconnects. A write counts
 * as sent once the bytes are handed to the kernel (syslog has no application acknowledgement).
 */
export function syslogSink(name: string, cfg: SyslogSinkConfig, tls: SyslogTls, o: { hostname: string; version: string }): Sink {
  const facility = cfg.facility ?? 10;
  const timeoutMs = cfg.timeoutMs ?? 10_000;
  let udp: UdpSocket | undefined;
  let stream: Socket | undefined;
  let connecting: Promise<Socket> | undefined;
  const fail = (why: string, cause?: unknown) => new AlertError('FLOE_ALERT_SINK_FAILED', `syslog ${name}: ${why}`, { cause });

  const open = (): Promise<Socket> => {
    if (stream && !stream.destroyed) return Promise.resolve(stream);
    connecting ??= new Promise<Socket>((resolve, reject) => {
      const s: Socket =
        cfg.transport === 'tls'
          ? tlsConnect({
              host: cfg.host,
              port: cfg.port,
              ca: tls.ca,
              cert: tls.cert,
              key: tls.key,
              servername: cfg.serverName ?? (/^[\d.:]+$/.test(cfg.host) ? undefined : cfg.host),
            })
          : tcpConnect({ host: cfg.host, port: cfg.port });
      const timer = setTimeout(() => s.destroy(new Error('connect timeout')), timeoutMs);
      s.once(cfg.transport === 'tls' ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        s.removeAllListeners('error');
        s.on('error', () => s.destroy()); // a later error drops the connection; the next send reconnects
        s.on('close', () => {
          if (stream === s) stream = undefined;
        });
        s.on('data', () => undefined); // a receiver says nothing on this protocol; ignore anything
        stream = s;
        resolve(s);
      });
      s.once('error', (e) => {
        clearTimeout(timer);
        s.destroy();
        reject(fail(`connect failed (${(e as NodeJS.ErrnoException).code ?? e.message})`, e));
      });
    }).finally(() => {
      connecting = undefined;
    });
    return connecting;
  };

  return {
    name,
    type: 'syslog',
    async send(n, signal) {
      const lines = syslogLines(n, { facility, hostname: o.hostname, version: o.version, procId: String(process.pid) });
      if (cfg.transport === 'udp') {
        udp ??= createSocket(cfg.host.includes(':') ? 'udp6' : 'udp4');
        const sock = udp;
        for (const l of lines) {
          await new Promise<void>((resolve, reject) =>
            sock.send(Buffer.from(l, 'utf8'), cfg.port, cfg.host, (e) => (e ? reject(fail(`send failed (${e.message})`, e)) : resolve())),
          );
        }
        return;
      }
      const s = await open();
      if (signal.aborted) throw fail('aborted');
      await new Promise<void>((resolve, reject) => {
        s.write(Buffer.concat(lines.map(octetCounted)), (e) => {
          if (e) {
            s.destroy();
            reject(fail(`write failed (${e.message})`, e));
          } else resolve();
        });
      });
    },
    async close() {
      udp?.close();
      udp = undefined;
      const s = stream;
      stream = undefined;
      if (s && !s.destroyed) await new Promise<void>((r) => s.end(() => r()));
    },
  };
}
