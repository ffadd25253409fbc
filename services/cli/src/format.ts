import type { Decision, Finding } from '@floe/flow';

/** One human line for a finding (stdout of `floe run` and `floe analyze` without --json). */
export function findingLine(f: Finding): string {
  const who = f.entity.addr + (f.entity.namespace ? ` (${f.entity.namespace}/${f.entity.workload ?? f.entity.pod ?? '?'})` : '');
  return `finding  ${f.severity.padEnd(8)} ${f.detector.padEnd(22)} ${who.padEnd(18)} ${f.summary}${f.mitre ? `  [${f.mitre}]` : ''}`;
}

/** One human line for a decision. */
export function decisionLine(d: Decision): string {
  const mins = Math.round(d.durationMs / 60000);
  const dur = mins >= 60 && mins % 60 === 0 ? `${mins / 60}h` : `${mins}m`;
  return `decision block    ${d.target.padEnd(20)} for ${dur} until ${new Date(d.expiresAt).toISOString()}${d.dryRun ? '  (dry-run)' : ''}  — ${d.reason}`;
}
