/**
 * `postgres-strategies check-preview <preview.json | -> [--allow <urn or name>]… [--format text|markdown|json]`
 *
 * Reads `pulumi preview --json` output (a file, or stdin for `-`), prints
 * the guard's findings to stdout and exits:
 * - 0 when no error finding is left unacknowledged (warnings never fail),
 * - 1 when one is (the check fails),
 * - 2 on a usage error or input that is not `pulumi preview --json` output.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { checkPreview, previewNotes, unusedAllows } from './check';
import { blockingFindings } from './findings';
import { PreviewFormatError, parsePreview } from './preview';
import { ReportFormat, renderFindings } from './render';

const USAGE = `usage: postgres-strategies check-preview <preview.json | -> [--allow <urn or name>]... [--format text|markdown|json]

Reads the output of \`pulumi preview --json\` (a file, or stdin for -) and fails
when a step would lose data: a delete or replacement of a database, its owner
role, an RDS instance, a Hetzner or Docker data volume, a new empty one in
place of a renamed instance, or a database or role created again under another
parent in the program. Warns about steps that break clients but keep the data
(renames, a new host or port, TLS changes).

options:
  --allow <urn or name>  acknowledge a finding on purpose: the resource's URN, its
                         name in the program, or the name of the component it
                         belongs to (repeatable)
  --format <format>      text (default), markdown (a pull-request comment) or json
  -h, --help             this help

exit status: 0 nothing unacknowledged loses data, 1 something does, 2 bad usage or input
`;

const FORMATS = new Set<string>(Object.values(ReportFormat));

function readInput(path: string): string {
  return readFileSync(path === '-' ? 0 : path, 'utf8');
}

/**
 * Runs `check-preview` with its arguments (after the command name) and
 * resolves to the exit code. Writes the report to stdout, problems to stderr.
 */
export async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        allow: { type: 'string', multiple: true },
        format: { type: 'string', default: ReportFormat.Text },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    process.stderr.write(`check-preview: ${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const format = values.format ?? ReportFormat.Text;
  if (!FORMATS.has(format)) {
    process.stderr.write(`check-preview: --format must be text, markdown or json, not ${JSON.stringify(format)}\n`);
    return 2;
  }
  if (positionals.length !== 1) {
    process.stderr.write(`check-preview: give one preview file (or - for stdin)${positionals.length > 1 ? `, not ${positionals.length}` : ''}\n\n${USAGE}`);
    return 2;
  }
  const allow = values.allow ?? [];
  let text: string;
  try {
    text = readInput(positionals[0] as string);
  } catch (e) {
    process.stderr.write(`check-preview: cannot read ${positionals[0]}: ${(e as Error).message}\n`);
    return 2;
  }
  let findings;
  let notes: string[];
  try {
    const digest = parsePreview(text);
    findings = checkPreview(digest, { allow });
    notes = previewNotes(digest);
  } catch (e) {
    if (e instanceof PreviewFormatError) {
      process.stderr.write(`check-preview: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  process.stdout.write(renderFindings(findings, format as ReportFormat, notes));
  for (const unused of unusedAllows(findings, allow)) {
    process.stderr.write(`check-preview: --allow ${unused} acknowledged nothing in this preview\n`);
  }
  return blockingFindings(findings).length > 0 ? 1 : 0;
}
