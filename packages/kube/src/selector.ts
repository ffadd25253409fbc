import type { LabelSelector } from './objects.js';

/**
 * True when `labels` satisfy the label selector (Kubernetes "Labels and Selectors": every
 * `matchLabels` pair and every `matchExpressions` requirement — In, NotIn, Exists, DoesNotExist —
 * must hold; an empty selector `{}` selects everything). An unknown operator selects nothing.
 */
export function selects(sel: LabelSelector, labels: Readonly<Record<string, string>> | undefined): boolean {
  const l = labels ?? {};
  if (sel.matchLabels) {
    for (const k of Object.keys(sel.matchLabels)) if (!Object.hasOwn(l, k) || l[k] !== sel.matchLabels[k]) return false;
  }
  for (const r of sel.matchExpressions ?? []) {
    const has = Object.hasOwn(l, r.key);
    switch (r.operator) {
      case 'In':
        if (!has || !(r.values ?? []).includes(l[r.key])) return false;
        break;
      case 'NotIn':
        if (has && (r.values ?? []).includes(l[r.key])) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

/** True when the selector is `{}` (or has no requirement): it selects everything. */
export function isEmptySelector(sel: LabelSelector | undefined): boolean {
  return !sel || ((!sel.matchLabels || Object.keys(sel.matchLabels).length === 0) && (!sel.matchExpressions || sel.matchExpressions.length === 0));
}
