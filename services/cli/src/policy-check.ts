import { escapeText, readBoundedText, readFailure } from '@floe/flow';
import { loadModel, ModelError } from '@floe/model';
import { checkPolicy, compilePolicy, locateYamlPath, parsePolicy, policyWarnings } from '@floe/policy';
import { UsageError } from './analyze.js';
import { modelDirOf } from './model.js';

/**
 * `floe policy check FILE`: prints each issue as `file:line:column field: message [code]` on
 * `err` and returns false when there is one. A valid policy prints each warning (risky but valid,
 * see policyWarnings) as `file:line:column field: warning: message [code]` on `err`, then
 * "FILE: ok" (with the warning count) on `out`, and returns true: warnings do not fail the check.
 * A valid policy whose `detectors.model.dir` names a model that cannot be loaded (missing or
 * unreadable directory or files, a bad or mismatched model) fails as `analyze --policy` would.
 * @throws UsageError (exit 2) `FILE:LINE:COL detectors.model.dir: <model error> [FLOE_MODEL_…]`.
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
  // The model the policy names is loaded as analyze and run load it (modelDirOf: relative to the file).
  const dir = modelDirOf(compilePolicy(parsePolicy(text, file)));
  if (dir !== undefined) {
    try {
      (await loadModel(dir)).dispose();
    } catch (e) {
      if (!(e instanceof ModelError)) throw e;
      const { line, column } = locateYamlPath(text, ['detectors', 'model', 'dir']);
      throw new UsageError(`${escapeText(file)}:${line}:${column} detectors.model.dir: ${escapeText(e.message)} [${e.code}]`);
    }
  }
  const warnings = policyWarnings(text, file);
  for (const w of warnings) err(`${escapeText(w.file)}:${w.line}:${w.column} ${w.field}: warning: ${w.message} [${w.code}]`);
  out(`${escapeText(file)}: ok${warnings.length ? ` (${warnings.length} warning${warnings.length > 1 ? 's' : ''})` : ''}`);
  return true;
}
