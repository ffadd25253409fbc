/** Waits until `pred` returns a value other than undefined/false (polling every `everyMs`), or throws after `ms`. */
export async function until<T>(what: string, ms: number, pred: () => T | undefined | false | Promise<T | undefined | false>, everyMs = 20): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await pred();
    if (v !== undefined && v !== false) return v as T;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
