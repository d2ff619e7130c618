/**
 * The guard's findings as text (a terminal), Markdown (a pull-request
 * comment) or JSON (machines). Pure: strings in, strings out.
 */
import { Finding, Severity, blockingFindings } from './findings';
import { resourceLabel } from './subjects';

/** Output formats of `check-preview --format`. */
export enum ReportFormat {
  Text = 'text',
  Markdown = 'markdown',
  Json = 'json',
}

/** The first line of the Markdown report: lets a workflow find and update its own PR comment. */
export const MARKDOWN_MARKER = '<!-- postgres-strategies check-preview -->';

/** The machine-readable report (`--format json`). */
export interface JsonReport {
  /** Version of this document's shape. */
  version: 1;
  /** What the preview could not show (`previewNotes`). */
  notes: string[];
  /** False when an error finding is not acknowledged (the command exits 1). */
  passed: boolean;
  summary: { errors: number; warnings: number; acknowledged: number };
  findings: Finding[];
}

interface Counts {
  errors: number;
  warnings: number;
  acknowledged: number;
  blocking: number;
}

function counts(findings: readonly Finding[]): Counts {
  return {
    errors: findings.filter((f) => f.severity === Severity.Error).length,
    warnings: findings.filter((f) => f.severity === Severity.Warning).length,
    acknowledged: findings.filter((f) => f.acknowledgedBy !== undefined).length,
    blocking: blockingFindings(findings).length,
  };
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function headline(c: Counts): string {
  if (c.errors === 0 && c.warnings === 0) return 'no step of this preview loses data or breaks clients';
  const parts = [plural(c.errors, 'error'), plural(c.warnings, 'warning')];
  const acked = c.acknowledged > 0 ? ` (${c.acknowledged} acknowledged)` : '';
  return c.blocking > 0
    ? `${parts.join(', ')}${acked}: ${plural(c.blocking, 'change')} would lose data`
    : `${parts.join(', ')}${acked}: nothing unacknowledged loses data`;
}

/** A plain-text report for a terminal or a CI log; `notes` (from `previewNotes`) close it. */
export function renderText(findings: readonly Finding[], notes: readonly string[] = []): string {
  const c = counts(findings);
  const lines = [`check-preview: ${headline(c)}`];
  for (const f of findings) {
    const tag = f.severity === Severity.Error ? (f.acknowledgedBy !== undefined ? 'ERROR (acknowledged)' : 'ERROR') : 'WARNING';
    lines.push('', `${tag}  ${f.op}  ${f.resource}`);
    if (f.properties.length > 0) lines.push(`  caused by: ${f.properties.join(', ')}`);
    lines.push(`  what happens: ${f.effect}`, `  instead: ${f.instead}`);
    if (f.urn) lines.push(`  urn: ${f.urn}`);
    const hint = f.resourceName; // the `--allow` value it suggests: the resource's name in the program
    if (f.acknowledgedBy !== undefined) lines.push(`  acknowledged by --allow ${f.acknowledgedBy}`);
    else if (f.severity === Severity.Error && hint !== undefined) lines.push(`  to do it on purpose: --allow ${hint}`);
  }
  for (const note of notes) lines.push('', `note: ${note}`);
  return `${lines.join('\n')}\n`;
}

/** Escapes text for Markdown outside code spans (names may hold `*`, `_`, `<`, `|`, …). */
export function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_{}[\]()<>#+\-.!|~"]/g, (ch) => `\\${ch}`).replace(/\r?\n/g, ' ');
}

/** A code span that holds any text (a longer backtick fence than the text's longest run). */
export function codeSpan(text: string): string {
  const longest = Math.max(0, ...(text.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longest + 1);
  const pad = text.startsWith('`') || text.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${text.replace(/\r?\n/g, ' ')}${pad}${fence}`;
}

/** The resource with its names in code spans (they may hold any character), e.g. database `vw_blog` (SharedPostgres `shared`, instance `blog`). */
function markdownResource(f: Finding): string {
  if (f.kind === undefined) return escapeMarkdown(f.resource);
  const owner = f.component !== undefined ? { component: f.component, componentName: f.componentName, instance: f.instance } : undefined;
  return resourceLabel({ kind: f.kind, objectName: f.name, owner, type: f.type, logicalName: f.resourceName ?? '' }, codeSpan);
}

/** Our own sentences hold `code` spans; only table pipes and line breaks need escaping. */
function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

/**
 * A pull-request comment: a headline, one table row per finding, then what
 * each finding means and what to do instead. Starts with
 * {@link MARKDOWN_MARKER}.
 */
export function renderMarkdown(findings: readonly Finding[], notes: readonly string[] = []): string {
  const c = counts(findings);
  const icon = c.blocking > 0 ? '🛑' : c.warnings > 0 || c.errors > 0 ? '⚠️' : '✅';
  const out = [MARKDOWN_MARKER, `### ${icon} Data-loss guard: ${escapeMarkdown(headline(c))}`, ''];
  if (findings.length === 0) {
    out.push('`postgres-strategies check-preview` found no delete, replacement or rename of a database, its volume or instance, and no change of how clients connect.');
    for (const note of notes) out.push('', `> ${cell(note)}`);
    return `${out.join('\n')}\n`;
  }
  out.push('| # | | Operation | Resource | Caused by |', '|---|---|---|---|---|');
  findings.forEach((f, i) => {
    const sev = f.severity === Severity.Error ? (f.acknowledgedBy !== undefined ? '☑️ acknowledged' : '🛑 error') : '⚠️ warning';
    out.push(`| ${i + 1} | ${sev} | ${codeSpan(f.op)} | ${cell(markdownResource(f))} | ${f.properties.length > 0 ? f.properties.map(codeSpan).join(', ') : '—'} |`);
  });
  out.push('', '<details open><summary>What each change does, and what to do instead</summary>', '');
  findings.forEach((f, i) => {
    out.push(`**${i + 1}.** ${markdownResource(f)} — ${codeSpan(f.op)}`, '');
    out.push(`- **What happens:** ${cell(f.effect)}`, `- **Instead:** ${cell(f.instead)}`);
    if (f.urn) out.push(`- **URN:** ${codeSpan(f.urn)}`);
    const hint = f.resourceName; // the `--allow` value it suggests: the resource's name in the program
    if (f.acknowledgedBy !== undefined) out.push(`- Acknowledged by ${codeSpan(`--allow ${f.acknowledgedBy}`)}.`);
    else if (f.severity === Severity.Error && hint !== undefined) out.push(`- To do it on purpose: ${codeSpan(`--allow ${hint}`)}.`);
    out.push('');
  });
  out.push('</details>', '');
  if (c.blocking > 0) {
    out.push('The check fails until each error is gone or acknowledged with `--allow <urn or name>` in the workflow (warnings never fail it).');
  }
  for (const note of notes) out.push('', `> ${cell(note)}`);
  return `${out.join('\n')}\n`;
}

/** The JSON report (`--format json`), pretty-printed. */
export function renderJson(findings: readonly Finding[], notes: readonly string[] = []): string {
  const c = counts(findings);
  const report: JsonReport = {
    version: 1,
    notes: [...notes],
    passed: c.blocking === 0,
    summary: { errors: c.errors, warnings: c.warnings, acknowledged: c.acknowledged },
    findings: [...findings],
  };
  return `${JSON.stringify(report, null, 2)}\n`;
}

/** Renders findings in `format` (what `check-preview --format` prints). */
export function renderFindings(findings: readonly Finding[], format: ReportFormat, notes: readonly string[] = []): string {
  switch (format) {
    case ReportFormat.Markdown:
      return renderMarkdown(findings, notes);
    case ReportFormat.Json:
      return renderJson(findings, notes);
    default:
      return renderText(findings, notes);
  }
}
