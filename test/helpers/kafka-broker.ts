import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const KAFKA_SH = join(REPO, 'deploy/dev/kafka.sh');

/**
 * Why a private Kafka broker cannot be started here, or undefined when it can: `java` must be
 * on PATH and the broker jars installed by `deploy/dev/kafka.sh install` (or `mvn` present so
 * that `start` can install them).
 */
export function kafkaBrokerBlocker(): string | undefined {
  const has = (cmd: string): boolean => {
    try {
      execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  };
  if (!has('java')) return 'java not found (the Kafka broker runs on Java 17)';
  const libs = join(process.env.FLOE_CACHE ?? join(REPO, '.cache'), 'kafka', 'libs');
  const installed = existsSync(libs) && readdirSync(libs).some((f) => f.startsWith('.installed-'));
  if (!installed && !has('mvn')) return `Kafka jars not installed in ${libs} and mvn not found (run deploy/dev/kafka.sh install)`;
  return undefined;
}

/** A free TCP port on 127.0.0.1 (bound then released, so a small race is possible). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/**
 * A single-node KRaft Kafka broker of one test: `deploy/dev/kafka.sh` run with its own ports
 * (KAFKA_PORT, KAFKA_CONTROLLER_PORT) and its own data/config/log folder (FLOE_KAFKA_DIR, a
 * temporary folder), sharing only the cached jars with the dev broker, which it never touches.
 * `stop()` is kafka.sh's controlled shutdown (SIGTERM, SIGKILL after 30 s); `start()` after a
 * stop reuses the same data folder, so topics, messages and committed offsets survive.
 */
export class PrivateKafkaBroker {
  readonly dir: string;
  private constructor(
    readonly port: number,
    readonly controllerPort: number,
    dir?: string,
  ) {
    this.dir = dir ?? mkdtempSync(join(tmpdir(), 'floe-kafka-'));
  }

  /** Picks free ports (or the given ones) and a fresh folder; does not start anything. */
  static async create(opts: { port?: number; controllerPort?: number; dir?: string } = {}): Promise<PrivateKafkaBroker> {
    const port = opts.port ?? (await freePort());
    let controllerPort = opts.controllerPort ?? (await freePort());
    while (controllerPort === port) controllerPort = await freePort();
    return new PrivateKafkaBroker(port, controllerPort, opts.dir);
  }

  /** `127.0.0.1:<port>`, the bootstrap address for clients. */
  get bootstrap(): string {
    return `127.0.0.1:${this.port}`;
  }

  private run(cmd: 'start' | 'stop' | 'status'): Promise<{ code: number; out: string }> {
    const env = { ...process.env, FLOE_KAFKA_DIR: this.dir, KAFKA_PORT: String(this.port), KAFKA_CONTROLLER_PORT: String(this.controllerPort) };
    return new Promise((resolve) => {
      execFile('bash', [KAFKA_SH, cmd], { env, encoding: 'utf8', timeout: 120_000 }, (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, out: `${stdout}${stderr}`.trim() });
      });
    });
  }

  /**
   * Starts the broker (formats the folder on the first start) and waits until it answers a
   * metadata request. Resolves with the time it took (ms).
   * @throws Error with kafka.sh's output when it does not become healthy.
   */
  async start(): Promise<number> {
    const t0 = Date.now();
    const r = await this.run('start');
    if (r.code !== 0) throw new Error(`private Kafka broker on ${this.bootstrap} did not start:\n${r.out}`);
    return Date.now() - t0;
  }

  /** Controlled shutdown; resolves with the time it took (ms). A no-op when stopped. */
  async stop(): Promise<number> {
    const t0 = Date.now();
    const r = await this.run('stop');
    if (r.code !== 0) throw new Error(`private Kafka broker on ${this.bootstrap} did not stop:\n${r.out}`);
    return Date.now() - t0;
  }

  /** Pid of the running broker JVM (kafka.sh's pid file), or undefined. */
  pid(): number | undefined {
    try {
      return Number(readFileSync(join(this.dir, 'kafka.pid'), 'utf8').trim()) || undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * Freezes the broker (SIGSTOP): connections stay open but nothing is answered, so no produce,
   * fetch or offset commit completes until `resume()` (SIGCONT).
   * @throws Error when the broker is not running.
   */
  pause(): void {
    const pid = this.pid();
    if (!pid) throw new Error(`private Kafka broker on ${this.bootstrap} is not running`);
    process.kill(pid, 'SIGSTOP');
  }

  /** Lets a paused broker run again (SIGCONT). */
  resume(): void {
    const pid = this.pid();
    if (pid) process.kill(pid, 'SIGCONT');
  }

  /** The last `n` lines of the broker's log (for failure diagnostics). */
  logTail(n = 40): string {
    try {
      return readFileSync(join(this.dir, 'kafka.log'), 'utf8').split('\n').slice(-n).join('\n');
    } catch {
      return '';
    }
  }

  /** Stops the broker and removes its folder. Safe twice. */
  async destroy(): Promise<void> {
    try {
      this.resume();
    } catch {
      /* not running */
    }
    try {
      await this.stop();
    } finally {
      rmSync(this.dir, { recursive: true, force: true });
    }
  }
}
