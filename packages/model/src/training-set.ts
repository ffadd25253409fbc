/** Helpers to build training sets: leave out the entities that had findings. */
import type { Finding } from '@floe/flow';
import type { EntityWindow } from './features.js';

/** The entity addresses named by findings (their `entity.addr`). */
export function entitiesWithFindings(findings: Iterable<Pick<Finding, 'entity'>>): Set<string> {
  const s = new Set<string>();
  for (const f of findings) s.add(f.entity.addr);
  return s;
}

/** Splits windows into those kept for training and those left out (their entity is in `exclude`). */
export function leaveOut(windows: EntityWindow[], exclude: ReadonlySet<string>): { kept: EntityWindow[]; left: EntityWindow[] } {
  const kept: EntityWindow[] = [];
  const left: EntityWindow[] = [];
  for (const w of windows) (exclude.has(w.entity) ? left : kept).push(w);
  return { kept, left };
}
