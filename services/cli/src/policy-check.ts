import { readFile } from 'node:fs/promises';
import { checkPolicy } from '@floe/policy';

/**
 * `floe policy check FILE`: prints each issue as `file:line:column field: message` on `err`
 * and returns false when there is one; prints "ok" with a one-line description when valid.
 */
export async function checkPolicyFile(file: string, out: (l: string) => void, err: (l: string) => void): Promise<boolean> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    err(`${file}: cannot read: ${(e as Error).message}`);
    return false;
  }
  const issues = checkPolicy(text, file);
  for (const i of issues) err(`${i.file}:${i.line}:${i.column} ${i.field}: ${i.message} [${i.code}]`);
  if (issues.length === 0) out(`${file}: ok`);
  else err(`${file}: ${issues.length} problem${issues.length > 1 ? 's' : ''}`);
  return issues.length === 0;
}
