/**
 * The attack lab of the end-to-end detection tests (test/e2e/attacks.test.ts): real Debian tools
 * between network namespaces, captured with `conntrack -E` on the router between them, analysed
 * by the real `floe analyze --json`.
 *
 * Layout (test-only ranges inside this sandbox, one lab per test, randomly named namespaces):
 *
 *   attacker 10.232.1.2/24 --veth-- 10.232.1.1 router 10.232.2.1 --veth-- victim subnet 10.232.2.0/24
 *                                                                         (one namespace holding the
 *                                                                          live hosts .10 .. .14)
 *
 * The router forwards between the two /24s and tracks connections (an nft `ct state new` rule in
 * its input, forward and output hooks, as any stateful firewall has; accounting and timestamps
 * on). Addresses of the victim subnet other than the live hosts do not answer (the router's ARP
 * fails), as on a real subnet. `conntrack -E -o timestamp,extended,id` in the router records what
 * a floe collector on that node would read.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Finding } from '@floe/flow';
import { liveTestBlocker, sh } from './netns.js';
import { until } from './wait.js';

/** The Debian tools the attack tests run (scripts/setup-deps.sh installs them). */
export const ATTACK_TOOLS = ['ip', 'nft', 'conntrack', 'nmap', 'hping3', 'hydra', 'sshd', 'ssh', 'ssh-keygen', 'curl', 'python3', 'ping', 'dig', 'dnsmasq', 'stdbuf'];

/** Why the attack tests cannot run here (not root, a tool missing), or undefined when they can. */
export function attackTestBlocker(): string | undefined {
  return liveTestBlocker(ATTACK_TOOLS);
}

/**
 * Netlink receive buffer of the capture's `conntrack -E` (`-b`, bytes): 16 MiB. Seen here (kernel
 * 6.18, conntrack-tools 1.4.7): an unpaced 100-port nmap SYN burst (100 probes within about a
 * millisecond) made conntrack report ENOBUFS and lose 17 of the 100 connections in most runs,
 * with or without `-b`; paced at 2,000 probes/s no event was lost in any run. The scan tests pace
 * nmap (`--max-rate 2000`); under load (seven people share this machine's two cores) even a
 * paced scan lost events now and then, so a capture that reports ENOBUFS is made again (the
 * loss is in the capture tool, before floe; the tests report the retry).
 */
export const CAPTURE_BUFFER_BYTES = 16 * 1024 * 1024;

/** Captures made at most per `capture` call when conntrack reports lost events. */
export const CAPTURE_ATTEMPTS = 3;

/** What a command run in a namespace did. */
export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A finished capture: the `conntrack -E` text and the file it was written to. */
export interface Capture {
  /** The capture file (in the lab's temporary folder; removed by down()). */
  file: string;
  /** Event lines (`[NEW]`, `[UPDATE]`, `[DESTROY]`), without conntrack's trailing summary. */
  lines: string[];
  /** Earlier attempts dropped because conntrack lost events (empty when the first was whole). */
  lost: string[];
}

/** What `floe analyze --json` made of a capture. */
export interface Analysis {
  findings: Finding[];
  /** Records parsed and lines rejected, from the summary line on stderr. */
  parsed: number;
  rejected: number;
  stderr: string;
}

const FLOE = fileURLToPath(new URL('../../services/cli/bin/floe.js', import.meta.url));

/**
 * Runs the built `floe analyze --json` on files and returns its findings (the last form of each)
 * and record counts.
 * @throws Error when floe exits non-zero.
 */
export function analyze(files: string[]): Analysis {
  const r = spawnSync(process.execPath, [FLOE, 'analyze', '--json', ...files], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`floe analyze exited ${r.status}: ${r.stderr}`);
  const findings = r.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Finding);
  let parsed = 0;
  let rejected = 0;
  for (const m of r.stderr.matchAll(/: (\d+) records parsed, \d+ lines skipped, (\d+) rejected/g)) {
    parsed += Number(m[1]);
    rejected += Number(m[2]);
  }
  return { findings, parsed, rejected, stderr: r.stderr };
}

/** A block decision `floe run` printed: the target (address/prefix) and the detector behind it. */
export interface BlockDecision {
  target: string;
  detector: string;
}

/** A finding line `floe run` printed: its detector and entity address. */
export interface RunFinding {
  detector: string;
  entity: string;
}

/**
 * Replays a capture through the built `floe run` (the processor and responder of one process,
 * embedded default policy, `--speed max --exit-after-replay`, in-memory store, dry-run as every
 * replay) and returns the block decisions it printed.
 * @throws Error when floe exits non-zero or prints no processing summary.
 */
export function replayDecisions(file: string): BlockDecision[] {
  return replayRun(file).decisions;
}

/**
 * Like replayDecisions, and also the findings `floe run` printed (every form: raised, updated, final).
 * @throws Error when floe exits non-zero or prints no processing summary.
 */
export function replayRun(file: string): { decisions: BlockDecision[]; findings: RunFinding[] } {
  const r = spawnSync(process.execPath, [FLOE, 'run', '--replay', file, '--speed', 'max', '--exit-after-replay', '--store', ':memory:', '--api-port', '0'], {
    encoding: 'utf8',
    env: { ...process.env, FLOE_LOG_LEVEL: 'warn' },
    timeout: 60_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.status !== 0 || !/^summary {2}processed \d+ flows/m.test(r.stdout))
    throw new Error(`floe run --replay exited ${r.status}: ${r.stdout.slice(-2000)} ${r.stderr.slice(-2000)}`);
  const decisions: BlockDecision[] = [];
  for (const m of r.stdout.matchAll(/^decision block\s+(\S+)\s.*— detector (\S+)/gm)) decisions.push({ target: m[1], detector: m[2] });
  const findings: RunFinding[] = [];
  for (const m of r.stdout.matchAll(/^finding\s+\S+\s+(\S+)\s+(\S+)/gm)) findings.push({ detector: m[1], entity: m[2] });
  return { decisions, findings };
}

/** Counts per field of a capture's NEW events: distinct destination ports per destination host and hosts per port, for one source. */
export function newEventStats(lines: string[], src: string): { flows: number; maxPortsPerHost: number; maxHostsPerPort: number; hosts: number } {
  const portsByHost = new Map<string, Set<string>>();
  const hostsByPort = new Map<string, Set<string>>();
  let flows = 0;
  for (const l of lines) {
    if (!l.includes('[NEW]')) continue;
    const m = / src=(\S+) dst=(\S+) (?:sport=\d+ dport=(\d+)|type=(\d+))/.exec(l);
    if (!m || m[1] !== src) continue;
    flows++;
    const port = m[3] ?? `icmp${m[4]}`;
    if (!portsByHost.has(m[2])) portsByHost.set(m[2], new Set());
    portsByHost.get(m[2])!.add(port);
    if (!hostsByPort.has(port)) hostsByPort.set(port, new Set());
    hostsByPort.get(port)!.add(m[2]);
  }
  const max = (m: Map<string, Set<string>>) => Math.max(0, ...[...m.values()].map((s) => s.size));
  return { flows, maxPortsPerHost: max(portsByHost), maxHostsPerPort: max(hostsByPort), hosts: portsByHost.size };
}

/** A router, an attacker and a victim subnet in network namespaces; see the module comment. */
export class AttackLab {
  readonly id = randomBytes(3).toString('hex');
  readonly router = `floe-rt-${this.id}`;
  readonly attacker = `floe-at-${this.id}`;
  readonly victim = `floe-vi-${this.id}`;
  readonly attackerAddr = '10.232.1.2';
  readonly routerAttackerSide = '10.232.1.1';
  readonly routerVictimSide = '10.232.2.1';
  /** The victim subnet's prefix (a /24). */
  readonly victimNet = '10.232.2';
  /** The live hosts of the victim subnet (all in the victim namespace); the first is "the victim". */
  readonly liveHosts = ['10.232.2.10', '10.232.2.11', '10.232.2.12', '10.232.2.13', '10.232.2.14'];
  readonly victimAddr = this.liveHosts[0];
  /** Temporary folder for keys, configs and captures; removed by down(). */
  readonly dir = mkdtempSync(join(tmpdir(), 'floe-attack-'));
  private children: ChildProcess[] = [];
  private made: string[] = [];

  /** Builds the namespaces, links, addresses, routes and the router's connection tracking. */
  up(): void {
    for (const ns of [this.router, this.attacker, this.victim]) {
      sh('ip', ['netns', 'add', ns]);
      this.made.push(ns);
      sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    }
    this.link(this.attacker, 'a', [`${this.attackerAddr}/24`], `${this.routerAttackerSide}/24`);
    this.link(
      this.victim,
      'v',
      this.liveHosts.map((a) => `${a}/24`),
      `${this.routerVictimSide}/24`,
    );
    sh('ip', ['-n', this.attacker, 'route', 'add', 'default', 'via', this.routerAttackerSide]);
    sh('ip', ['-n', this.victim, 'route', 'add', 'default', 'via', this.routerVictimSide]);
    const r = (k: string, v: string) => this.execSync(this.router, 'sysctl', ['-qw', `${k}=${v}`]);
    r('net.ipv4.ip_forward', '1');
    r('net.ipv4.conf.all.rp_filter', '0');
    r('net.netfilter.nf_conntrack_acct', '1');
    r('net.netfilter.nf_conntrack_timestamp', '1');
    // A closed TCP connection is destroyed 1 s after its FIN/RST instead of 120 s (TIME_WAIT) /
    // 10 s (CLOSE), so a short test sees the DESTROY events (duration, counters) a collector sees
    // two minutes later on a default host.
    r('net.netfilter.nf_conntrack_tcp_timeout_time_wait', '1');
    r('net.netfilter.nf_conntrack_tcp_timeout_close', '1');
    this.execSync(
      this.router,
      'nft',
      ['-f', '-'],
      'table inet labtrack {\n' +
        ' chain track_in { type filter hook input priority 10; ct state new counter; }\n' +
        ' chain track_fwd { type filter hook forward priority 10; ct state new counter; }\n' +
        ' chain track_out { type filter hook output priority 10; ct state new counter; }\n' +
        '}\n',
    );
  }

  private link(peer: string, tag: string, peerAddrs: string[], routerAddr: string): void {
    const p = `fl${tag}${this.id}p`;
    const r = `fl${tag}${this.id}r`;
    sh('ip', ['link', 'add', p, 'type', 'veth', 'peer', 'name', r]);
    sh('ip', ['link', 'set', p, 'netns', peer]);
    sh('ip', ['link', 'set', r, 'netns', this.router]);
    for (const a of peerAddrs) sh('ip', ['-n', peer, 'addr', 'add', a, 'dev', p]);
    sh('ip', ['-n', this.router, 'addr', 'add', routerAddr, 'dev', r]);
    sh('ip', ['-n', peer, 'link', 'set', p, 'up']);
    sh('ip', ['-n', this.router, 'link', 'set', r, 'up']);
  }

  /** The attacker's interface name (hping3 --rand-dest needs it). */
  get attackerIf(): string {
    return `fla${this.id}p`;
  }

  /** Runs a short command in a namespace, synchronously; returns stdout, throws with stderr. */
  execSync(ns: string, cmd: string, args: string[], input?: string): string {
    const r = spawnSync('ip', ['netns', 'exec', ns, cmd, ...args], { encoding: 'utf8', input, cwd: this.dir });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} in ${ns} exited ${r.status}: ${r.stderr}`);
    return r.stdout;
  }

  /**
   * Runs a command in a namespace to its end (killed with its process group after timeoutMs) and
   * returns its exit and output. Never throws for a non-zero exit: the caller asserts.
   */
  run(ns: string, cmd: string, args: string[], timeoutMs = 60_000): Promise<RunResult> {
    const c = spawn('ip', ['netns', 'exec', ns, cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'], detached: true, cwd: this.dir });
    this.children.push(c);
    let stdout = '';
    let stderr = '';
    c.stdout!.on('data', (d) => {
      stdout += d;
    });
    c.stderr!.on('data', (d) => {
      stderr += d;
    });
    const timer = setTimeout(() => killGroup(c, 'SIGKILL'), timeoutMs);
    return new Promise((resolve) => {
      c.once('close', (code, signal) => {
        clearTimeout(timer);
        resolve({ code, signal, stdout, stderr });
      });
    });
  }

  /** Starts a long-running process in a namespace (own process group); down() kills it. */
  spawn(ns: string, cmd: string, args: string[]): ChildProcess {
    const c = spawn('ip', ['netns', 'exec', ns, cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'], detached: true, cwd: this.dir });
    c.stdout!.resume();
    c.stderr!.resume();
    this.children.push(c);
    return c;
  }

  /** Waits until a TCP port answers from the attacker's namespace (curl's connect only). */
  async waitTcp(addr: string, port: number): Promise<void> {
    await until(
      `${addr}:${port} to listen`,
      10_000,
      async () => {
        const r = await this.run(this.victim, 'bash', ['-c', `exec 3<>/dev/tcp/${addr}/${port}`], 2000);
        return r.code === 0 || undefined;
      },
      100,
    );
  }

  /** python3's http.server on the victim (all live addresses), serving the lab folder. */
  async startHttp(port = 8000): Promise<void> {
    writeFileSync(join(this.dir, 'index.html'), '<html><body>floe lab</body></html>\n');
    this.spawn(this.victim, 'python3', ['-m', 'http.server', '--bind', '0.0.0.0', '--directory', this.dir, String(port)]);
    await this.waitTcp(this.victimAddr, port);
  }

  /**
   * OpenSSH's sshd on the victim, port 22 of victimAddr: password authentication on (no PAM),
   * root allowed with a key only (so every password guess fails), one client key authorised.
   * Returns the client's private key file.
   */
  async startSshd(): Promise<string> {
    const key = join(this.dir, 'client_key');
    const hostKey = join(this.dir, 'host_key');
    sh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', hostKey]);
    sh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
    writeFileSync(join(this.dir, 'authorized_keys'), sh('cat', [`${key}.pub`]));
    const cfg = join(this.dir, 'sshd_config');
    writeFileSync(
      cfg,
      [
        `ListenAddress ${this.victimAddr}`,
        'Port 22',
        `HostKey ${hostKey}`,
        'PidFile none',
        'UsePAM no',
        'PasswordAuthentication yes',
        'KbdInteractiveAuthentication no',
        'PermitRootLogin prohibit-password',
        `AuthorizedKeysFile ${join(this.dir, 'authorized_keys')}`,
        'StrictModes no',
        'MaxStartups 100',
        'LogLevel INFO',
        '',
      ].join('\n'),
    );
    // sshd's privilege separation directory (tmpfiles/init create it on a booted host)
    sh('mkdir', ['-p', '-m', '0755', '/run/sshd']);
    this.spawn(this.victim, '/usr/sbin/sshd', ['-D', '-e', '-f', cfg]);
    await this.waitTcp(this.victimAddr, 22);
    return key;
  }

  /** dnsmasq on the victim's second address, answering `*.lab.test` itself (no upstream, no hosts file). */
  async startDns(): Promise<string> {
    const addr = this.liveHosts[1];
    this.spawn(this.victim, 'dnsmasq', [
      '--keep-in-foreground',
      '--no-resolv',
      '--no-hosts',
      '--no-poll',
      '--pid-file=',
      '--bind-interfaces',
      `--listen-address=${addr}`,
      '--port=53',
      `--address=/lab.test/${this.liveHosts[2]}`,
      '--log-facility=-',
    ]);
    await until(
      'dnsmasq to answer',
      10_000,
      async () => {
        const r = await this.run(this.victim, 'dig', ['+short', '+time=1', '+tries=1', `@${addr}`, 'up.lab.test'], 3000);
        return r.stdout.trim() === this.liveHosts[2] || undefined;
      },
      100,
    );
    return addr;
  }

  /**
   * Records `conntrack -E -o timestamp,extended,id` in the router while `traffic` runs. The
   * table is flushed first (so DESTROY events of an earlier step do not leak in) and the capture
   * starts only once an event is seen (a UDP datagram the router sends to itself on loopback, one
   * line from 127.0.0.1). While it runs, the table is listed every 500 ms (the kernel reaps
   * expired entries while dumping, so DESTROY events come when the connection expired, not at the
   * next garbage-collection pass, which is often later than the test). After `traffic`, it waits
   * `settleMs` for late events, lists the table once more and stops conntrack.
   * When conntrack reports ENOBUFS (events lost, see CAPTURE_BUFFER_BYTES), `traffic` is run
   * again in a fresh capture, up to CAPTURE_ATTEMPTS times; `Capture.lost` says so.
   * With FLOE_E2E_SAVE_CAPTURES=DIR the capture is also written to DIR/<name>.log.
   * @throws Error when every attempt lost events.
   */
  async capture(name: string, traffic: () => Promise<void>, settleMs = 1500): Promise<Capture> {
    const lost: string[] = [];
    for (let attempt = 1; ; attempt++) {
      const r = await this.captureOnce(traffic, settleMs);
      if (r.stderr.includes('ENOBUFS')) {
        lost.push(`attempt ${attempt}: conntrack -E lost events (ENOBUFS) after ${r.lines.length} events`);
        if (attempt < CAPTURE_ATTEMPTS) continue;
        throw new Error(`${name}: every capture lost events: ${lost.join('; ')}`);
      }
      const file = join(this.dir, `${name}.log`);
      writeFileSync(file, `${r.lines.join('\n')}\n`);
      const save = process.env.FLOE_E2E_SAVE_CAPTURES;
      if (save) writeFileSync(join(save, `${name}.log`), `${r.lines.join('\n')}\n`);
      return { file, lines: r.lines, lost };
    }
  }

  private async captureOnce(traffic: () => Promise<void>, settleMs: number): Promise<{ lines: string[]; stderr: string }> {
    spawnSync('ip', ['netns', 'exec', this.router, 'conntrack', '-F'], { stdio: 'ignore' });
    const c = spawn('ip', ['netns', 'exec', this.router, 'stdbuf', '-oL', 'conntrack', '-E', '-o', 'timestamp,extended,id', '-b', String(CAPTURE_BUFFER_BYTES)], {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    this.children.push(c);
    let text = '';
    c.stdout!.on('data', (d) => {
      text += d;
    });
    let stderr = '';
    c.stderr!.on('data', (d) => {
      stderr += d;
    });
    const closed = new Promise((r) => c.once('close', r));
    await until(
      'conntrack -E to report the first event',
      10_000,
      () => {
        spawnSync('ip', ['netns', 'exec', this.router, process.execPath, '-e', "const s=require('dgram').createSocket('udp4');s.send('x',9,'127.0.0.1',()=>s.close())"], {
          stdio: 'ignore',
        });
        return text.includes('dport=9 ') || undefined;
      },
      200,
    );
    // The kernel reaps expired entries (and sends their DESTROY events) at its garbage
    // collector's pace, which here was often not before the capture ended; a dump reaps them
    // too. Listing the table every 500 ms keeps DESTROY times within about 0.5 s of expiry.
    let reaping: ChildProcess | undefined;
    const reaper = setInterval(() => {
      if (reaping && reaping.exitCode === null) return;
      reaping = spawn('ip', ['netns', 'exec', this.router, 'conntrack', '-L'], { stdio: 'ignore' });
    }, 500);
    try {
      await traffic();
      await new Promise((r) => setTimeout(r, settleMs));
    } finally {
      clearInterval(reaper);
    }
    if (reaping && reaping.exitCode === null) await new Promise((r) => reaping!.once('close', r));
    spawnSync('ip', ['netns', 'exec', this.router, 'conntrack', '-L'], { stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 300));
    killGroup(c, 'SIGTERM');
    await closed;
    return { lines: text.split('\n').filter((l) => l.startsWith('[')), stderr };
  }

  /** Kills every process started here (with its group), deletes the namespaces and the temporary folder. */
  down(): void {
    for (const c of this.children) if (c.exitCode === null && c.signalCode === null) killGroup(c, 'SIGKILL');
    for (const ns of this.made) {
      try {
        sh('ip', ['netns', 'del', ns]);
      } catch {
        /* already gone */
      }
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function killGroup(c: ChildProcess, sig: NodeJS.Signals): void {
  try {
    process.kill(-c.pid!, sig);
  } catch {
    /* already gone */
  }
}
