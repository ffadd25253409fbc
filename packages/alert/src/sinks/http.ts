import { escapeText } from '@floe/flow';
import { AlertError } from '../errors.js';

/**
 * POSTs a JSON body; resolves on 2xx. A 408, 429 or 5xx answer, a network error or the timeout
 * is FLOE_ALERT_SINK_FAILED (retriable); any other status FLOE_ALERT_SINK_REJECTED.
 * @param label how errors name the receiver (the sink name, never the URL: it may hold a secret path).
 */
export async function postJson(label: string, url: string, body: string, headers: Record<string, string>, timeoutMs: number, signal: AbortSignal): Promise<void> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
      signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]),
    });
  } catch (e) {
    const why = (e as { cause?: { code?: string } }).cause?.code ?? (e as Error).name;
    throw new AlertError('FLOE_ALERT_SINK_FAILED', `${label}: request failed (${why})`, { cause: e });
  }
  // the body is read (and dropped) so the connection can be reused
  const text = await res.text().catch(() => '');
  if (res.ok) return;
  const code = res.status === 408 || res.status === 429 || res.status >= 500 ? 'FLOE_ALERT_SINK_FAILED' : 'FLOE_ALERT_SINK_REJECTED';
  // the receiver's answer is input: escaped before it can reach a log
  throw new AlertError(code, `${label}: HTTP ${res.status} ${escapeText(text.slice(0, 200))}`);
}
