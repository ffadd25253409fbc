import { spawn } from 'node:child_process';
import { NFT_ERROR_CODES, NftError } from './errors.js';

/** Output of one nft run. */
export interface NftRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** How to start nft: binary, optional network namespace, kill timeout (ms). */
export interface NftExecOptions {
  nftPath?: string;
  netns?: string;
  execTimeoutMs?: number;
}

/**
 * Runs `nft ARGS` (or `ip netns exec NS nft ARGS`) with `input` on standard input and resolves
 * with its exit code and output; it does not throw on a non-zero exit. Throws NftError
 * FLOE_NFT_UNAVAILABLE when the program cannot be started (ENOENT, EACCES).
 */
export function runNft(args: string[], input: string | undefined, opts: NftExecOptions = {}): Promise<NftRun> {
  const nft = opts.nftPath ?? 'nft';
  const [cmd, argv] = opts.netns ? ['ip', ['netns', 'exec', opts.netns, nft, ...args]] : [nft, args];
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.execTimeoutMs ?? 30000);
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new NftError(NFT_ERROR_CODES.UNAVAILABLE, `cannot run ${cmd}: ${e.code ?? e.message}`));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
    child.stdin.on('error', () => {
      /* the process exited before reading all input; its exit code tells */
    });
    child.stdin.end(input ?? '');
  });
}
