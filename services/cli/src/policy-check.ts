import { escapeText, readBoundedText, readFailure } from '@floe/flow';
import { checkPolicy, policyWarnings } from '@floe/policy';

/**
 * `floe policy check FILE`: prints each issue as `file:line:column field: message [code]` on
 * `err` and returns false when there is one. A valid policy prints each warning (risky but valid,
 * see policyWarnings) as `file:line:column field: warning: message [code]` on `err`, then
 * "FILE: ok" (with the warning count) on `out`, and returns true: warnings do not fail the check.
 */
export async function checkPolicyFile(file: string, out: (l: string) => void, err: (l: string) => void): Promise<boolean> {
  let text: string;
  try {
    text = readBoundedText(file);
  } catch (e) {
    err(`${escapeText(file)}: cannot read: ${readFailure(e)}`);
    return false;
  }
  const issues = checkPolicy(text, file);
  for (const i of issues) err(`${escapeText(i.file)}:${i.line}:${i.column} ${i.field}: ${i.message} [${i.code}]`);
  if (issues.length > 0) {
    err(`${escapeText(file)}: ${issues.length} problem${issues.length > 1 ? 's' : ''}`);
    return false;
  }
  const warnings = policyWarnings(text, file);
  for (const w of warnings) err(`${escapeText(w.file)}:${w.line}:${w.column} ${w.field}: warning: ${w.message} [${w.code}]`);
  out(`${escapeText(file)}: ok${warnings.length ? ` (${warnings.length} warning${warnings.length > 1 ? 's' : ''})` : ''}`);
  return true;
}
