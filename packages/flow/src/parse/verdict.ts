/**
 * Verdict from a log prefix (`--log-prefix`, nft `log prefix`, NFLOG `oob.prefix`): the words
 * DROP, REJECT, DENY, BLOCK mean 'drop'; ACCEPT, ALLOW mean 'accept' (case-insensitive, words
 * split on anything but letters, so `DROP_INPUT`, `IPTABLES-DROP`, `policy DROP:`,
 * `PVEFW-reject`, `[UFW BLOCK]` all count). No word, or words of both kinds: undefined.
 * Vendor codes such as EdgeOS's `-D`/`-A` rule suffixes are not interpreted.
 */
export function verdictFromPrefix(prefix: string): 'accept' | 'drop' | undefined {
  let verdict: 'accept' | 'drop' | undefined;
  const n = prefix.length;
  let i = 0;
  while (i < n) {
    while (i < n && !isLetter(prefix.charCodeAt(i))) i++;
    const s = i;
    while (i < n && isLetter(prefix.charCodeAt(i))) i++;
    const len = i - s;
    if (len < 4 || len > 6) continue;
    let v: 'accept' | 'drop' | undefined;
    switch (prefix.slice(s, i).toUpperCase()) {
      case 'DROP':
      case 'REJECT':
      case 'DENY':
      case 'BLOCK':
        v = 'drop';
        break;
      case 'ACCEPT':
      case 'ALLOW':
        v = 'accept';
        break;
    }
    if (v === undefined) continue;
    if (verdict !== undefined && verdict !== v) return undefined;
    verdict = v;
  }
  return verdict;
}

function isLetter(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}
