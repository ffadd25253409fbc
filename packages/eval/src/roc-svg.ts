/** A ROC curve drawn as a standalone SVG document (hand-built: axes, grid, diagonal, curve, AUC). */
import type { RocPoint } from './metrics.js';

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/**
 * SVG (480×520 px) of `points` (false positive rate on x, true positive rate on y), with the
 * chance diagonal, a 0.2 grid, `title` (also the SVG's `<title>`; lines split at `\n`, each cut to 66 characters) and the
 * AUC in the legend. An empty curve draws the axes and says there is no curve.
 */
export function rocSvg(points: readonly RocPoint[], auc: number | null | undefined, title: string): string {
  const L = 60;
  const T = 50;
  const S = 380;
  const x = (v: number): string => (L + v * S).toFixed(1);
  const y = (v: number): string => (T + (1 - v) * S).toFixed(1);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="480" height="520" viewBox="0 0 480 520" font-family="sans-serif" font-size="12">`,
    `<title>${esc(title.replace(/\n/g, ' — '))}</title>`,
    `<rect width="480" height="520" fill="white"/>`,
  ];
  title
    .split('\n')
    .slice(0, 2)
    .forEach((line, i) => parts.push(`<text x="240" y="${18 + i * 17}" text-anchor="middle" font-size="12">${esc(line.length > 66 ? `${line.slice(0, 65)}…` : line)}</text>`));
  for (let i = 0; i <= 5; i++) {
    const v = i / 5;
    parts.push(`<line x1="${x(v)}" y1="${y(0)}" x2="${x(v)}" y2="${y(1)}" stroke="#ddd"/>`);
    parts.push(`<line x1="${x(0)}" y1="${y(v)}" x2="${x(1)}" y2="${y(v)}" stroke="#ddd"/>`);
    parts.push(`<text x="${x(v)}" y="${(T + S + 18).toFixed(1)}" text-anchor="middle">${v.toFixed(1)}</text>`);
    parts.push(`<text x="${L - 8}" y="${(Number(y(v)) + 4).toFixed(1)}" text-anchor="end">${v.toFixed(1)}</text>`);
  }
  parts.push(`<rect x="${L}" y="${T}" width="${S}" height="${S}" fill="none" stroke="black"/>`);
  parts.push(`<line x1="${x(0)}" y1="${y(0)}" x2="${x(1)}" y2="${y(1)}" stroke="#999" stroke-dasharray="6 4"/>`);
  parts.push(`<text x="${L + S / 2}" y="${T + S + 40}" text-anchor="middle">false positive rate (benign windows flagged)</text>`);
  parts.push(`<text x="18" y="${T + S / 2}" text-anchor="middle" transform="rotate(-90 18 ${T + S / 2})">true positive rate (attack windows flagged)</text>`);
  if (points.length >= 2) {
    parts.push(`<polyline fill="none" stroke="#c0392b" stroke-width="2" points="${points.map((p) => `${x(p.fpr)},${y(p.tpr)}`).join(' ')}"/>`);
    parts.push(`<text x="${L + S - 10}" y="${T + S - 12}" text-anchor="end" font-size="14">AUC ${auc === null || auc === undefined ? 'n/a' : auc.toFixed(3)}</text>`);
  } else {
    parts.push(`<text x="${L + S / 2}" y="${T + S / 2}" text-anchor="middle">no curve: needs scored attack and benign windows</text>`);
  }
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
