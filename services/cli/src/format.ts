import { escapeText, type Decision, type Finding } from '@floe/flow';

/** One human line for a finding (stdout of `floe run` and `floe analyze` without --json); input text in it is escaped (escapeText). */
export function findingLine(f: Finding): string {
  return escapeText(findingText(f));
}

function findingText(f: Finding): string {
  const who = f.entity.addr + (f.entity.namespace ? ` (${f.entity.namespace}/${f.entity.workload ?? f.entity.pod ?? '?'})` : '');
  return `finding  ${f.severity.padEnd(8)} ${f.detector.padEnd(22)} ${who.padEnd(18)} ${f.summary}${f.mitre ? `  [${f.mitre}]` : ''}`;
}

/** One human line for a decision; its reason (API input) and target are escaped (escapeText). */
export function decisionLine(d: Decision): string {
  return escapeText(decisionText(d));
}

function decisionText(d: Decision): string {
  const mins = Math.round(d.durationMs / 60000);
  const dur = mins >= 60 && mins % 60 === 0 ? `${mins / 60}h` : `${mins}m`;
  return `decision block    ${d.target.padEnd(20)} for ${dur} until ${new Date(d.expiresAt).toISOString()}${d.dryRun ? '  (dry-run)' : ''}  — ${d.reason}`;
}
