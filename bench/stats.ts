/** Small statistics and formatting helpers for the bench. */
import { renderTable } from '../src/migrate/report';

export function median(xs: number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

export function min(xs: number[]): number {
  return Math.min(...xs);
}

export function max(xs: number[]): number {
  return Math.max(...xs);
}

/** `12 345` style integers, fixed decimals otherwise. */
export function num(x: number, decimals = 0): string {
  if (!Number.isFinite(x)) return '–';
  const fixed = x.toFixed(decimals);
  const [int, frac] = fixed.split('.');
  const grouped = (int as string).replace(/\B(?=(\d{3})+(?!\d))/g, '\u2009');
  return frac === undefined ? grouped : `${grouped}.${frac}`;
}

export function ratio(a: number, b: number): number {
  return a / b;
}

export function times(r: number): string {
  return `${r.toFixed(2)}×`;
}

/** A verdict against a "≤ limit×" target. */
export function verdict(r: number, limit: number): 'PASS' | 'FAIL' {
  return r <= limit ? 'PASS' : 'FAIL';
}

/** A plain-text table: right-aligned numbers, left-aligned text (columns given as 'l' / 'r'). */
export function textTable(header: string[], rows: string[][], align: string): string {
  return renderTable(header, rows, header.map((_, i) => align[i] === 'r'), '─');
}

/** A markdown table. */
export function markdownTable(header: string[], rows: string[][], align: string): string {
  const sep = header.map((_, i) => (align[i] === 'r' ? '---:' : '---'));
  const line = (cells: string[]): string => `| ${cells.join(' | ')} |`;
  return [line(header), line(sep), ...rows.map(line)].join('\n');
}
