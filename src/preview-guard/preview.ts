/**
 * The document `pulumi preview --json` prints, as far as the guard reads it,
 * and Pulumi's resource URNs.
 *
 * Source: pulumi/pulumi v3.248.0 — `pkg/display/json.go` (`PreviewDigest`,
 * `PreviewStep`, `PropertyDiff`), `pkg/backend/display/json.go`
 * (`ShowPreviewDigest`: which steps are printed, secrets shown as
 * `"[secret]"`), `sdk/go/common/apitype/core.go` (`ResourceV3`, the
 * `oldState`/`newState` of a step) and `sdk/go/common/resource/urn/urn.go`
 * (the URN's parts). What the engine prints, learnt from it:
 * - `steps` holds every step except `same` ones (unless `--show-sames`) and,
 *   for a replacement, only the logical `replace` step (its
 *   `create-replacement`/`delete-replaced` halves only with
 *   `--show-replacement-steps`); with no change at all, `steps` may be absent.
 * - `diffReasons` are the changed properties, `replaceReasons` those that
 *   force the replacement (`["provider"]` when the resource's provider is
 *   replaced, `["id"]` for `--replace`), both top-level input names.
 * - a resource removed from the program is a `delete` step whose `oldState`
 *   carries `retainOnDelete` when the engine will only forget it; a resource
 *   that was read (`get`) is a `discard`.
 * - secret values are `"[secret]"`, even with `--show-secrets` (`json.go`
 *   masks them whatever the flag); values the program did not mark secret
 *   are plain, so the guard never prints input values other than names.
 */

/** A step's operation, as the engine spells it (`pkg/resource/deploy/step.go`). */
export type StepOp =
  | 'same'
  | 'create'
  | 'update'
  | 'delete'
  | 'replace'
  | 'create-replacement'
  | 'delete-replaced'
  | 'read'
  | 'read-replacement'
  | 'refresh'
  | 'discard'
  | 'discard-replaced'
  | 'remove-pending-replace'
  | 'import'
  | 'import-replacement'
  | (string & {});

/** A resource's state in a step (`apitype.ResourceV3`; only what the guard reads). */
export interface PreviewResourceState {
  urn: string;
  type: string;
  custom?: boolean;
  id?: string;
  inputs?: Record<string, unknown>;
  outputs?: Record<string, unknown>;
  parent?: string;
  provider?: string;
  protect?: boolean;
  retainOnDelete?: boolean;
  dependencies?: string[];
}

/** One property's change (`display.PropertyDiff`): `kind` is add, delete, update or their `-replace` forms. */
export interface PreviewPropertyDiff {
  kind: string;
  inputDiff: boolean;
}

/** One step of the preview (`display.PreviewStep`). */
export interface PreviewStep {
  op: StepOp;
  urn: string;
  provider?: string;
  oldState?: PreviewResourceState;
  newState?: PreviewResourceState;
  diffReasons?: string[];
  replaceReasons?: string[];
  detailedDiff?: Record<string, PreviewPropertyDiff> | null;
}

/** One diagnostic of the preview (`display.PreviewDiagnostic`). */
export interface PreviewDiagnostic {
  urn?: string;
  message?: string;
  severity?: string;
}

/** The whole document (`display.PreviewDigest`). */
export interface PreviewDigest {
  config?: Record<string, string>;
  steps?: PreviewStep[];
  diagnostics?: PreviewDiagnostic[];
  duration?: number;
  changeSummary?: Record<string, number>;
  maybeCorrupt?: boolean;
}

/** The parts of a URN `urn:pulumi:<stack>::<project>::<type chain>::<name>`. */
export interface ParsedUrn {
  stack: string;
  project: string;
  /** The parent types then the resource's own type, outermost first (`$`-separated in the URN). */
  typeChain: string[];
  /** The resource's own type (last of the chain). */
  type: string;
  /** The resource's logical name, as the program gave it (it may contain `::`). */
  name: string;
}

/** A document that is not `pulumi preview --json` output. */
export class PreviewFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PreviewFormatError';
  }
}

const URN_PREFIX = 'urn:pulumi:';

/**
 * Splits a URN into its parts (the same rules as Pulumi's `urn.URN`: the
 * name is everything after the third `::`).
 * @returns undefined when `urn` is not a Pulumi URN.
 */
export function parseUrn(urn: string): ParsedUrn | undefined {
  if (typeof urn !== 'string' || !urn.startsWith(URN_PREFIX)) return undefined;
  const parts = urn.slice(URN_PREFIX.length).split('::');
  if (parts.length < 4) return undefined;
  const [stack, project, qualifiedType] = parts as [string, string, string];
  const typeChain = qualifiedType.split('$');
  const type = typeChain[typeChain.length - 1] as string;
  if (!type) return undefined;
  return { stack, project, typeChain, type, name: parts.slice(3).join('::') };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string');
}

/**
 * Reads `pulumi preview --json` output: the text, or the parsed document.
 * @throws PreviewFormatError when the text is not JSON, or the document is
 *   not a preview digest (no `steps`, `changeSummary` or `diagnostics`; a
 *   step without `op` or a URN; reasons that are not lists of names). The
 *   message says what was found, never the document's values.
 */
export function parsePreview(preview: string | unknown): PreviewDigest {
  let doc: unknown = preview;
  if (typeof preview === 'string') {
    try {
      doc = JSON.parse(preview);
    } catch (e) {
      const hint = preview.trimStart().startsWith('{') ? '' : ' (run `pulumi preview --json`, not `pulumi preview`)';
      throw new PreviewFormatError(`the preview is not JSON${hint}: ${(e as Error).message}`);
    }
  }
  if (!isObject(doc)) throw new PreviewFormatError('the preview is not a JSON object (expected the output of `pulumi preview --json`)');
  if (!('steps' in doc) && !('changeSummary' in doc) && !('diagnostics' in doc)) {
    throw new PreviewFormatError('the JSON has no "steps", "changeSummary" or "diagnostics": it is not the output of `pulumi preview --json`');
  }
  const steps = doc['steps'];
  if (steps !== undefined && steps !== null && !Array.isArray(steps)) throw new PreviewFormatError('"steps" is not a list');
  (Array.isArray(steps) ? steps : []).forEach((step: unknown, i) => {
    if (!isObject(step)) throw new PreviewFormatError(`steps[${i}] is not an object`);
    if (typeof step['op'] !== 'string') throw new PreviewFormatError(`steps[${i}] has no "op"`);
    if (typeof step['urn'] !== 'string' || !parseUrn(step['urn'])) throw new PreviewFormatError(`steps[${i}] has no valid "urn"`);
    for (const key of ['diffReasons', 'replaceReasons'] as const) {
      if (step[key] !== undefined && step[key] !== null && !isStringArray(step[key])) throw new PreviewFormatError(`steps[${i}].${key} is not a list of property names`);
    }
    for (const key of ['oldState', 'newState'] as const) {
      const state = step[key];
      if (state !== undefined && state !== null && (!isObject(state) || typeof state['type'] !== 'string')) {
        throw new PreviewFormatError(`steps[${i}].${key} is not a resource state`);
      }
    }
  });
  const diagnostics = doc['diagnostics'];
  if (diagnostics !== undefined && diagnostics !== null && !Array.isArray(diagnostics)) throw new PreviewFormatError('"diagnostics" is not a list');
  return doc as PreviewDigest;
}
