/**
 * The data-loss guard for pull-request previews (`postgres-strategies/preview-guard`):
 * `checkPreview` reads `pulumi preview --json` output and returns findings —
 * errors for steps that lose data (a dropped database or owner role, a
 * replaced or deleted RDS instance, Hetzner or Docker data volume, a new
 * empty database in place of a renamed instance), warnings for steps that
 * break clients but keep the data (renames, a new host or port, TLS
 * changes) — and renders them as text, a Markdown PR comment or JSON.
 *
 * Pure TypeScript: no Pulumi import, no I/O (the command line is
 * `postgres-strategies check-preview`, src/preview-guard/cli.ts).
 *
 * @example
 * ```ts
 * import { readFileSync } from 'node:fs';
 * import { blockingFindings, checkPreview, renderMarkdown } from 'postgres-strategies/preview-guard';
 *
 * const findings = checkPreview(readFileSync('preview.json', 'utf8'), { allow: ['shared-old-database'] });
 * console.log(renderMarkdown(findings));
 * process.exitCode = blockingFindings(findings).length > 0 ? 1 : 0;
 * ```
 */
export { checkPreview, previewNotes, unusedAllows, type CheckPreviewOptions } from './check';
export { Severity, FindingCode, blockingFindings, type Finding } from './findings';
export { parsePreview, parseUrn, PreviewFormatError } from './preview';
export type { PreviewDigest, PreviewStep, PreviewResourceState, PreviewDiagnostic, PreviewPropertyDiff, ParsedUrn, StepOp } from './preview';
export { ReportFormat, MARKDOWN_MARKER, renderText, renderMarkdown, renderJson, renderFindings, type JsonReport } from './render';
export { SubjectKind, COMPONENTS, LIBRARY_CHILDREN, type LibraryChild } from './subjects';
