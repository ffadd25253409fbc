/**
 * Real receivers for the alert tests (not part of the package's runtime API; exported as
 * `@floe/alert/testing`): Prometheus Alertmanager and rsyslog from Debian, started as child
 * processes on loopback with their own config and temporary storage, and a throw-away CA for TLS.
 * Debian packages: prometheus-alertmanager, rsyslog, rsyslog-gnutls (scripts/setup-deps.sh).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { join } from 'node:path';

/** Binaries the receivers need. */
export const ALERTMANAGER_BIN = '/usr/bin/prometheus-alertmanager';
export const RSYSLOGD_BIN = '/usr/sbin/rsyslogd';
/** rsyslog-gnutls's network stream driver (Debian multiarch path). */
export const GTLS_DRIVER = '/usr/lib/x86_64-linux-gnu/rsyslog/lmnsd_gtls.so';

/** Why the real-receiver tests cannot run here (a missing package), or undefined. */
export function receiversBlocker(): string | undefined {
  const missing = [
    [ALERTMANAGER_BIN, 'prometheus-alertmanager'],
    [RSYSLOGD_BIN, 'rsyslog'],
    [GTLS_DRIVER, 'rsyslog-gnutls'],
    ['/usr/bin/openssl', 'openssl'],
  ]
    .filter(([f]) => !existsSync(f))
    .map(([, p]) => p);
  return missing.length ? `missing Debian packages: ${missing.join(', ')} (bash scripts/setup-deps.sh)` : undefined;
}

/** A free loopback TCP port (bound to 0, read, closed; a UDP port of the same number is almost always free too). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

async function waitFor(what: string, ms: number, ok: () => Promise<boolean>, child: ChildProcess, stderr: () => string): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (child.exitCode !== null) throw new Error(`${what} exited ${child.exitCode}: ${stderr().slice(-2000)}`);
    if (await ok().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${what} not ready after ${ms} ms: ${stderr().slice(-2000)}`);
}

const tcpOpen = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = connect({ host: '127.0.0.1', port }, () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const done = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), 5000);
  await done;
  clearTimeout(t);
}

/** An alert as Alertmanager's GET /api/v2/alerts returns it (`gettableAlert`, the fields the tests read). */
export interface GettableAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL?: string;
  status: { state: string };
}

/** A running Alertmanager. */
export interface AlertmanagerProcess {
  url: string;
  /** GET /api/v2/alerts (active alerts). */
  alerts(): Promise<GettableAlert[]>;
  stop(): Promise<void>;
}

/** Starts Alertmanager on a free loopback port with a one-receiver config and `dir` as its storage; clustering off. */
export async function startAlertmanager(dir: string): Promise<AlertmanagerProcess> {
  const port = await freePort();
  const cfg = join(dir, 'alertmanager.yml');
  writeFileSync(cfg, 'route:\n  receiver: blackhole\n  group_wait: 1s\nreceivers:\n  - name: blackhole\n');
  const child = spawn(
    ALERTMANAGER_BIN,
    [`--config.file=${cfg}`, `--storage.path=${dir}`, `--web.listen-address=127.0.0.1:${port}`, '--cluster.listen-address=', '--log.level=warn'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let err = '';
  child.stderr?.on('data', (d) => (err += d));
  const url = `http://127.0.0.1:${port}`;
  await waitFor(
    'alertmanager',
    20_000,
    async () => (await fetch(`${url}/-/ready`)).ok,
    child,
    () => err,
  );
  return {
    url,
    async alerts() {
      const r = await fetch(`${url}/api/v2/alerts`);
      if (!r.ok) throw new Error(`alertmanager GET /api/v2/alerts: ${r.status}`);
      return (await r.json()) as GettableAlert[];
    },
    stop: () => stopChild(child),
  };
}

/** A throw-away CA and a server certificate for 127.0.0.1 / localhost (EC P-256, 2 days), made with openssl. */
export function makeCerts(dir: string): { ca: string; cert: string; key: string } {
  const run = (args: string[]) => {
    const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`openssl ${args[0]}: ${r.stderr}`);
  };
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  run(['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=floe test CA']);
  run(['req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost']);
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  run(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', 'san.ext']);
  return { ca: join(dir, 'ca.pem'), cert: join(dir, 'server.pem'), key: join(dir, 'server.key') };
}

/** A running rsyslogd writing every message it receives to `file` as `APP-NAME MSGID MSG` lines. */
export interface RsyslogProcess {
  /** The port of the requested transport (UDP, TCP or TLS). */
  port: number;
  file: string;
  lines(): string[];
  stop(): Promise<void>;
}

/**
 * Starts `rsyslogd -n` (foreground) with its own config in `dir`: one input of `transport` on a
 * free loopback port (imudp; imtcp; imtcp with the gtls driver, anonymous clients, `tls` as the
 * server certificate), every message written by omfile with the template `%app-name% %msgid% %msg%`.
 * `atPort`: listen there (a restart on the same port) instead of a free one.
 */
export async function startRsyslog(dir: string, transport: 'udp' | 'tcp' | 'tls', tls?: { ca: string; cert: string; key: string }, atPort?: number): Promise<RsyslogProcess> {
  const port = atPort ?? (await freePort());
  const file = join(dir, 'received.log');
  const conf = join(dir, 'rsyslog.conf');
  const lines: string[] = [];
  lines.push(
    `global(workDirectory="${dir}" net.enableDNS="off" maxMessageSize="64k"${
      transport === 'tls' && tls ? ` defaultNetstreamDriverCAFile="${tls.ca}" defaultNetstreamDriverCertFile="${tls.cert}" defaultNetstreamDriverKeyFile="${tls.key}"` : ''
    })`,
  );
  // a plain TCP input as readiness probe for UDP (a UDP port cannot be probed)
  const probe = transport === 'udp' ? await freePort() : port;
  if (transport === 'udp') {
    lines.push('module(load="imudp")', `input(type="imudp" address="127.0.0.1" port="${port}")`);
    lines.push('module(load="imtcp")', `input(type="imtcp" address="127.0.0.1" port="${probe}")`);
  } else if (transport === 'tcp') {
    lines.push('module(load="imtcp")', `input(type="imtcp" address="127.0.0.1" port="${port}")`);
  } else {
    lines.push('module(load="imtcp" streamDriver.name="gtls" streamDriver.mode="1" streamDriver.authMode="anon")', `input(type="imtcp" address="127.0.0.1" port="${port}")`);
  }
  lines.push('template(name="floeTest" type="string" string="%app-name% %msgid% %msg%\\n")', `action(type="omfile" file="${file}" template="floeTest")`);
  writeFileSync(conf, `${lines.join('\n')}\n`);
  const child = spawn(RSYSLOGD_BIN, ['-n', '-f', conf, '-i', join(dir, 'rsyslogd.pid')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr?.on('data', (d) => (err += d));
  child.stdout?.on('data', (d) => (err += d));
  await waitFor(
    'rsyslogd',
    20_000,
    () => tcpOpen(probe),
    child,
    () => err,
  );
  return {
    port,
    file,
    lines: () => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : []),
    stop: () => stopChild(child),
  };
}
