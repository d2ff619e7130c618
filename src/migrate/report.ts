/**
 * How a migrate run is shown to a person (a table on stdout) and how its
 * progress is shown (one line at a time on stderr). Pure: strings in,
 * strings out. `--json` prints the {@link MigrateResult} itself.
 */
import { CopyProgress } from './copy';
import { MigrateOutcome, MigrateProgress, MigrateResult } from './migrate';

/** Bytes as a person reads them (`"1.5 MB"`, decimal units). */
export function formatBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let v = bytes;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i += 1;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(1)} ${units[i]}`;
}

/**
 * A plain-text table: columns padded to their widest cell, those marked in
 * `right` aligned right, the header underlined with `rule`.
 */
export function renderTable(header: string[], rows: string[][], right: boolean[] = [], rule = '-'): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (right[i] ? c.padStart(widths[i] as number) : c.padEnd(widths[i] as number)))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => rule.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

const mark = (equal: boolean): string => (equal ? 'ok' : 'DIFFERS');

/** The report of a finished run, for a person. */
export function renderReport(r: MigrateResult): string {
  const v = r.verification;
  const head =
    r.ok
      ? `${r.outcome === MigrateOutcome.Copied ? 'copied and verified' : 'already copied; verified'}: no difference`
      : `${v.differences} difference(s) found${r.outcome === MigrateOutcome.Copied ? ' after the copy' : ' in the earlier copy'}`;
  const out: string[] = [
    `postgres-strategies migrate: ${head}`,
    `  from   ${r.source.user}@${r.source.host}:${r.source.port}/${r.source.database} (PostgreSQL ${r.source.serverVersion}, sslmode=${r.source.sslmode})`,
    `  to     ${r.target.user}@${r.target.host}:${r.target.port}/${r.target.database} (PostgreSQL ${r.target.serverVersion}, sslmode=${r.target.sslmode}); objects owned by ${r.target.role}`,
    `  tools  pg_dump/pg_restore ${r.tools.version} (${r.tools.pgDump.replace(/\/pg_dump$/, '')}); row checksums: ${r.recordHashTables.length > 0 ? `by column types (hash_record_extended) for ${r.recordHashTables.length} of ${r.verification.tables.length} tables, else ` : ''}${r.rowHash}`,
    `  budget ${r.budget.committed} of ${r.budget.usable} usable connections committed to login roles (max_connections ${r.budget.maxConnections}), ${r.budget.inUse} in use` +
      (r.budget.unlimitedRoles.length > 0 ? `; no limit: ${r.budget.unlimitedRoles.join(', ')}` : ''),
    r.copy
      ? `  time   checks ${r.seconds.checks} s, copy ${r.seconds.copy} s (${formatBytes(r.copy.bytes)}, ${r.copy.tables} tables), verify ${r.seconds.verify} s`
      : `  time   checks ${r.seconds.checks} s, verify ${r.seconds.verify} s (nothing copied)`,
    ...r.notes.map((n) => `  note   ${n}`),
    '',
  ];
  const rows: string[][] = [];
  for (const t of v.tables) {
    rows.push(['table', t.table, t.source ? String(t.source.rows) : 'missing', t.target ? String(t.target.rows) : 'missing', t.source?.checksum.slice(0, 12) ?? '', t.target?.checksum.slice(0, 12) ?? '', mark(t.equal)]);
  }
  for (const s of v.sequences) {
    const show = (x: { lastValue: string; isCalled: boolean } | null): string => (x ? `${x.lastValue}${x.isCalled ? '' : ' (not called)'}` : 'missing');
    const source = s.sourceAfter ? `${show(s.source)} → ${show(s.sourceAfter)} (moved ${s.moved} during the run)` : show(s.source);
    rows.push(['sequence', s.sequence, source, show(s.target), '', '', `${mark(s.equal)}${s.ahead ? ` (${s.ahead} ahead)` : ''}`]);
  }
  rows.push(['large objects', '', String(v.largeObjects.source.rows), String(v.largeObjects.target.rows), v.largeObjects.source.checksum.slice(0, 12), v.largeObjects.target.checksum.slice(0, 12), mark(v.largeObjects.equal)]);
  for (const e of v.extensions) rows.push(['extension', e.extension, e.source ?? 'missing', e.target ?? 'missing', '', '', mark(e.equal)]);
  for (const o of v.objects.onlyInSource) rows.push(['object', o, 'present', 'missing', '', '', mark(false)]);
  for (const o of v.objects.onlyInTarget) rows.push(['object', o, 'missing', 'present', '', '', mark(false)]);
  rows.push([
    'ownership',
    `owner ${v.ownership.role}`,
    '',
    `${v.ownership.objects - v.ownership.notOwned.length - v.ownership.largeObjectsNotOwned} of ${v.ownership.objects}`,
    '',
    '',
    mark(v.ownership.equal),
  ]);
  for (const o of v.ownership.notOwned) rows.push(['  not owned', `${o.kind} ${o.name}`, '', `owner ${o.owner}`, '', '', mark(false)]);
  if (v.ownership.largeObjectsNotOwned > 0) rows.push(['  not owned', 'large objects', '', String(v.ownership.largeObjectsNotOwned), '', '', mark(false)]);
  if (v.privileges.roles.length > 0) {
    rows.push(['privileges', v.privileges.roles.join(', '), '', v.privileges.missing.length > 0 ? `${v.privileges.missing.length} missing` : 'all held', '', '', mark(v.privileges.equal)]);
    for (const m of v.privileges.missing) rows.push(['  missing', m, '', '', '', '', mark(false)]);
  }
  out.push(renderTable(['what', 'name', 'source', 'target', 'source sum', 'target sum', ''], rows, [false, false, true, true, false, false, false]));
  if (r.nextStep) out.push('', `next step: ${r.nextStep}`);
  return `${out.join('\n')}\n`;
}

/** One progress line (stderr). */
export function renderProgress(p: MigrateProgress): string {
  switch (p.phase) {
    case 'check':
      return `migrate: ${p.message}`;
    case 'copy':
      return `migrate: copying: ${copyLine(p)}`;
    case 'verify':
      return `migrate: verifying the ${p.side}: ${p.done}/${p.total} checksum parts`;
  }
}

function copyLine(p: CopyProgress): string {
  return `${formatBytes(p.bytes)} through the pipe, ${p.tablesDone}/${p.tables} tables restored${p.table ? ` (loading ${p.table})` : ''}`;
}
