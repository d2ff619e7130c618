/**
 * Preview steps for the providers that cannot run here (AWS, Hetzner
 * Cloud, Docker), built the way the engine builds them: the resource's
 * state is what our component really registers (Pulumi's mock runtime),
 * the change is one input, and whether the engine replaces or updates
 * follows the provider's schema — a changed ForceNew property makes the
 * step a `replace` with that property in `replaceReasons`, anything else
 * an `update` (pulumi/pulumi v3.248.0 `pkg/resource/deploy/step_generator.go`
 * and the bridge's Diff; the step's JSON as `pkg/backend/display/json.go`
 * prints it, which test/e2e/preview-guard.test.ts checks on the real engine
 * for the postgresql provider).
 *
 * Sources of the ForceNew sets (Terraform names → the bridge's camelCase):
 * - postgresql.Database — terraform-provider-postgresql ff936b95 (the archive
 *   `npm run engine` builds pulumi-postgresql 3.18.0 from)
 *   `postgresql/resource_postgresql_database.go`: ForceNew `template`,
 *   `encoding`, `lc_collate`, `lc_ctype` (a new name or owner is `ALTER
 *   DATABASE` in place, which the engine suite sees for real).
 * - aws.rds.Instance — terraform-provider-aws `internal/service/rds/instance.go`,
 *   pulumi/terraform-provider-aws tag v5.5.0 (4b19274d, 2023-06-22):
 *   ForceNew `availability_zone`, `backup_target`, `character_set_name`,
 *   `custom_iam_instance_profile`, `db_name`, `engine`, `kms_key_id`,
 *   `nchar_character_set_name`, `restore_to_point_in_time`,
 *   `snapshot_identifier`, `storage_encrypted`, `timezone`, `username`.
 *   `identifier` is NOT ForceNew since v5.0 ("can be updated": Update sends
 *   `NewDBInstanceIdentifier`; hashicorp/terraform-provider-aws#507, #32590),
 *   so a changed identifier is an in-place rename. @pulumi/aws 7.48 bridges
 *   the v6 line; its newer source could not be brought here (the repository
 *   exceeds the mirror's size limit), and neither set changed from v5.0 to
 *   v5.5.
 * - hcloud.Volume — terraform-provider-hcloud `internal/volume/resource.go`:
 *   ForceNew `location` only (name, size, labels, automount, format,
 *   delete_protection update in place); v1.66.1 (what pulumi-hcloud v1.39.1
 *   pins) and f81c9af (after v1.68.0) agree.
 * - hcloud.Server — `internal/server/resource.go`, same versions: ForceNew
 *   `image`, `location`, `user_data`, `ssh_keys`.
 * - docker.Volume — kreuzwerker/terraform-provider-docker v4.5.0 (5074970c,
 *   pulumi-docker's `upstream` submodule) `internal/provider/resource_docker_volume.go`:
 *   ForceNew `name`, `labels`, `driver`, `driver_opts`.
 * - docker.Container — same version, `resource_docker_container.go`: 89
 *   ForceNew properties, among them `ports`, `image`, `command`, `envs`,
 *   `uploads`, `volumes` (the ones LocalPostgres sets).
 * - tls.SelfSignedCert — terraform-provider-tls d72d90e1 (the archive
 *   `npm run engine` builds pulumi-tls 5.5.1 from)
 *   `internal/provider/resource_self_signed_cert.go`: RequiresReplace on
 *   `private_key_pem`, `validity_period_hours`, `allowed_uses`, `dns_names`,
 *   `ip_addresses`, `uris`, `is_ca_certificate`, `max_path_length`,
 *   `set_subject_key_id`, `set_authority_key_id`, `subject`, and
 *   `ready_for_renewal` when it turns true (an expired certificate, or one
 *   inside `early_renewal_hours`).
 */
import { RecordedResource } from '../../../lab/pulumi-mocks';
import { PreviewDigest, PreviewStep } from '../../../src/preview-guard/preview';

/** Properties whose change replaces the resource, per type (see the sources above). */
export const FORCE_NEW: Record<string, readonly string[]> = {
  'postgresql:index/database:Database': ['template', 'encoding', 'lcCollate', 'lcCtype'],
  'aws:rds/instance:Instance': [
    'availabilityZone', 'backupTarget', 'characterSetName', 'customIamInstanceProfile', 'dbName', 'engine', 'kmsKeyId',
    'ncharCharacterSetName', 'restoreToPointInTime', 'snapshotIdentifier', 'storageEncrypted', 'timezone', 'username',
  ],
  'hcloud:index/volume:Volume': ['location'],
  'hcloud:index/server:Server': ['image', 'location', 'userData', 'sshKeys'],
  'docker:index/volume:Volume': ['name', 'labels', 'driver', 'driverOpts'],
  'docker:index/container:Container': ['ports', 'image', 'command', 'envs', 'uploads', 'volumes', 'entrypoints', 'user', 'healthcheck'],
  'tls:index/selfSignedCert:SelfSignedCert': [
    'privateKeyPem', 'validityPeriodHours', 'allowedUses', 'dnsNames', 'ipAddresses', 'uris', 'isCaCertificate', 'maxPathLength',
    'setSubjectKeyId', 'setAuthorityKeyId', 'subject', 'readyForRenewal',
  ],
};

function state(r: RecordedResource, inputs: Record<string, unknown>, retain: boolean): NonNullable<PreviewStep['oldState']> {
  return { urn: r.urn, type: r.type, custom: r.custom, parent: r.parent, inputs, ...(retain ? { retainOnDelete: true } : {}), ...(r.protect ? { protect: true } : {}) };
}

/**
 * The step the engine prints when `changes` are made to the inputs of `r`
 * (a `replace` when one of them is ForceNew, else an `update`; nothing when
 * no value changes), or when `r` leaves the program (`'delete'`).
 * `retain` is the state's retainOnDelete (what the component registered,
 * unless given).
 */
export function stepFor(r: RecordedResource, changes: Record<string, unknown> | 'delete', retain: boolean = r.retainOnDelete === true): PreviewStep | undefined {
  if (changes === 'delete') return { op: 'delete', urn: r.urn, oldState: state(r, r.inputs, retain) };
  const diff = Object.keys(changes).filter((k) => JSON.stringify(changes[k]) !== JSON.stringify(r.inputs[k])).sort();
  if (diff.length === 0) return undefined;
  const forceNew = FORCE_NEW[r.type] ?? [];
  const replaceReasons = diff.filter((k) => forceNew.includes(k));
  const op = replaceReasons.length > 0 ? 'replace' : 'update';
  return {
    op,
    urn: r.urn,
    oldState: state(r, r.inputs, retain),
    newState: state(r, { ...r.inputs, ...changes }, retain),
    diffReasons: diff,
    ...(op === 'replace' ? { replaceReasons } : {}),
    detailedDiff: Object.fromEntries(diff.map((k) => [k, { kind: replaceReasons.includes(k) ? 'update-replace' : 'update', inputDiff: true }])),
  };
}

/**
 * A preview document of these steps (the root stack's own `same` step first,
 * as the engine prints it). A replaced or deleted resource that is protected
 * (and stays so) adds the engine's error diagnostic: the preview still shows
 * the step, but fails (`step_generator.go` "unable to replace resource …
 * as it is currently marked for protection"; a delete fails the same way,
 * `step.go` `deleteProtectedError`).
 */
export function previewOf(...steps: (PreviewStep | undefined)[]): PreviewDigest {
  const present = steps.filter((s): s is PreviewStep => s !== undefined);
  const summary: Record<string, number> = {};
  for (const s of present) summary[s.op] = (summary[s.op] ?? 0) + 1;
  const refused = present.filter((s) => (s.op === 'replace' || s.op === 'delete') && s.oldState?.protect && (s.newState?.protect ?? true));
  return {
    steps: [{ op: 'same', urn: 'urn:pulumi:prod::app::pulumi:pulumi:Stack::app-prod' }, ...present],
    changeSummary: { ...summary, same: 1 },
    ...(refused.length > 0
      ? { diagnostics: refused.map((s) => ({ urn: s.urn, severity: 'error', message: `error: unable to ${s.op} resource "${s.urn}"\nas it is currently marked for protection.\n` })) }
      : {}),
  };
}
