import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';

/** Runs a command and returns its stdout; throws with stderr on failure. */
export function sh(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/**
 * A fresh network namespace named `<prefix>-<6 hex>` with its loopback up, deleted when the test
 * `t` ends (by `t.after`). Returns its name.
 */
export function scratchNetns(t: { after(fn: () => unknown): void }, prefix: string): string {
  const ns = `${prefix}-${randomBytes(3).toString('hex')}`;
  sh('ip', ['netns', 'add', ns]);
  t.after(() => {
    try {
      sh('ip', ['netns', 'del', ns]);
    } catch {
      /* gone */
    }
  });
  sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  return ns;
}

/**
 * Whether floe's IPv4 block sets in `ns` (table inet floe: `blocked4` for hosts, `blocked4net` for
 * prefixes) hold `addr` or a prefix covering it (`nft get element`, which matches inside an
 * interval); false when the table or set does not exist.
 */
export function nftBlocks(ns: string, addr: string): boolean {
  return ['blocked4', 'blocked4net'].some((set) => {
    try {
      sh('ip', ['netns', 'exec', ns, 'nft', 'get', 'element', 'inet', 'floe', set, `{ ${addr} }`]);
      return true;
    } catch {
      return false;
    }
  });
}

/** Why the live tests cannot run here (not root, a tool missing), or undefined when they can. */
export function liveTestBlocker(tools = ['ip', 'nft', 'conntrack', 'nmap']): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root';
  for (const t of tools) {
    try {
      execFileSync('sh', ['-c', `command -v ${t}`], { stdio: 'ignore' });
    } catch {
      return `${t} not installed (npm test's pretest installs it as root)`;
    }
  }
  return undefined;
}

/**
 * Three hosts in network namespaces of their own: an attacker and a bystander, each on its own
 * veth link to a victim. Addresses: attacker 10.231.1.2 <-> victim 10.231.1.1, bystander
 * 10.231.2.2 <-> victim 10.231.2.1 (test-only ranges inside this sandbox). The victim tracks
 * connections (an nft `ct state new` rule, as any stateful firewall has) with accounting on.
 */
export class Lab {
  readonly id = randomBytes(3).toString('hex');
  readonly attacker = `floe-att-${this.id}`;
  readonly victim = `floe-vic-${this.id}`;
  readonly bystander = `floe-by-${this.id}`;
  readonly attackerAddr = '10.231.1.2';
  readonly victimAddrA = '10.231.1.1';
  readonly bystanderAddr = '10.231.2.2';
  readonly victimAddrB = '10.231.2.1';
  private children: ChildProcess[] = [];

  up(): void {
    for (const ns of [this.attacker, this.victim, this.bystander]) {
      sh('ip', ['netns', 'add', ns]);
      sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    }
    this.link(this.attacker, 'a', this.attackerAddr, this.victimAddrA);
    this.link(this.bystander, 'b', this.bystanderAddr, this.victimAddrB);
    this.exec(this.victim, 'sysctl', ['-qw', 'net.netfilter.nf_conntrack_acct=1']);
    this.exec(this.victim, 'nft', ['-f', '-'], 'table inet labtrack {\n chain in {\n  type filter hook input priority 10;\n  ct state new counter\n }\n}\n');
  }

  private link(peer: string, tag: string, peerAddr: string, victimAddr: string): void {
    const p = `fl${tag}${this.id}p`;
    const v = `fl${tag}${this.id}v`;
    sh('ip', ['link', 'add', p, 'type', 'veth', 'peer', 'name', v]);
    sh('ip', ['link', 'set', p, 'netns', peer]);
    sh('ip', ['link', 'set', v, 'netns', this.victim]);
    sh('ip', ['-n', peer, 'addr', 'add', `${peerAddr}/24`, 'dev', p]);
    sh('ip', ['-n', this.victim, 'addr', 'add', `${victimAddr}/24`, 'dev', v]);
    sh('ip', ['-n', peer, 'link', 'set', p, 'up']);
    sh('ip', ['-n', this.victim, 'link', 'set', v, 'up']);
  }

  /** Runs a command inside a namespace (optionally with stdin) and returns stdout. */
  exec(ns: string, cmd: string, args: string[], input?: string): string {
    return execFileSync('ip', ['netns', 'exec', ns, cmd, ...args], { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'] });
  }

  /** Starts a long-running process inside a namespace; it is killed by down(). */
  spawn(ns: string, cmd: string, args: string[]): ChildProcess {
    const c = spawn('ip', ['netns', 'exec', ns, cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.children.push(c);
    return c;
  }

  /**
   * Tries a TCP connection from `ns` to addr:port with node's net module. Resolves 'connected',
   * 'refused' or 'timeout' (after timeoutMs).
   */
  async connect(ns: string, addr: string, port: number, timeoutMs = 2000): Promise<'connected' | 'refused' | 'timeout'> {
    const script =
      `const s=require('net').connect({host:'${addr}',port:${port}});` +
      `const t=setTimeout(()=>{console.log('timeout');process.exit(0)},${timeoutMs});` +
      `s.on('connect',()=>{console.log('connected');s.destroy();clearTimeout(t)});` +
      `s.on('error',e=>{console.log(e.code==='ECONNREFUSED'?'refused':'error:'+e.code);clearTimeout(t)});`;
    const c = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let text = '';
    c.stdout!.on('data', (d) => {
      text += d;
    });
    await new Promise((r) => c.once('exit', r));
    const word = text.trim();
    if (word !== 'connected' && word !== 'refused' && word !== 'timeout') throw new Error(`connect from ${ns} to ${addr}:${port}: ${word}`);
    return word;
  }

  down(): void {
    for (const c of this.children) if (c.exitCode === null) c.kill('SIGKILL');
    for (const ns of [this.attacker, this.victim, this.bystander]) {
      try {
        sh('ip', ['netns', 'del', ns]);
      } catch {
        /* already gone */
      }
    }
  }
}
