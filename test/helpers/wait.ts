import { pollUntil } from '@floe/kube-config/testing';

/**
 * Waits until `pred` returns a value other than undefined/false, polling every `everyMs` (20 ms by
 * default: the e2e tests wait on local processes), or throws after `ms` naming `what`. The one
 * polling loop is `pollUntil` (@floe/kube-config/testing, which the package tests use too).
 */
export function until<T>(what: string, ms: number, pred: () => T | undefined | false | Promise<T | undefined | false>, everyMs = 20): Promise<T> {
  return pollUntil(what, ms, pred, everyMs);
}
