/**
 * What the compatibility test keeps: per resource type, the inputs whose
 * change makes the engine REPLACE the resource (the provider's ForceNew /
 * RequiresReplace set: the preview says `replace`, and a protected resource
 * fails the preview), and the inputs whose change renames it in place
 * (no replacement, but what the resource is called — an RDS address, a
 * database name, a Hetzner name — changes under the user's feet).
 *
 * Which children are kept: every one of these types (data, credentials,
 * trust anchors, the admin provider the server resources hang on), and
 * every child a component protects or retains whatever its type (the test
 * fails when such a type is missing here).
 *
 * Sources (Terraform names → the bridge's camelCase), read at these commits:
 * - postgresql — cyrilgdn/terraform-provider-postgresql ff936b95 (the
 *   upstream of pulumi-postgresql 3.18.0, /work/shared/engine-src):
 *   `resource_postgresql_database.go` ForceNew `template`, `encoding`,
 *   `lc_collate`, `lc_ctype`; `resource_postgresql_role.go` none;
 *   `resource_postgresql_grant.go` `role`, `database`, `schema`,
 *   `object_type`, `objects`, `columns`, `with_grant_option` (not
 *   `privileges`); `resource_postgresql_grant_role.go` `role`, `grant_role`,
 *   `with_admin_option`; `resource_postgresql_default_privileges.go` `role`,
 *   `database`, `owner`, `schema`, `object_type`, `with_grant_option`.
 * - aws — hashicorp/terraform-provider-aws 01606926 (`internal/service/ec2/vpc_security_group.go`:
 *   ForceNew `description`, `name`, `name_prefix`, `vpc_id`;
 *   `internal/service/rds/parameter_group.go`: `description`, `family`,
 *   `name`, `name_prefix`); 01c08000 `internal/service/rds/subnet_group.go`:
 *   `name`, `name_prefix` (its `description` is updated in place with
 *   ModifyDBSubnetGroup); the instance as test/unit/preview-guard/fixtures.ts
 *   cites it (v5.5.0: `identifier` is renamed in place since v5.0).
 * - hcloud — hetznercloud/terraform-provider-hcloud f81c9af4 (v1.68.0 + 5):
 *   `internal/server/resource.go` `image`, `location`, `user_data`,
 *   `ssh_keys`; `internal/volume/resource.go` `location`;
 *   `internal/volume/resource_attachment.go` `volume_id`, `server_id`;
 *   `internal/network/resource.go` `ip_range`; `internal/network/resource_subnet.go`
 *   `network_id`, `type`, `network_zone`, `ip_range`, `vswitch_id`;
 *   `internal/firewall/resource.go` none. Names are updated in place.
 * - docker — kreuzwerker/terraform-provider-docker 619686dd (v4.2.0, the
 *   upstream of pulumi-docker 5.0.0) `internal/provider/resource_docker_volume.go`:
 *   `name`, `labels`, `driver`, `driver_opts`.
 * - random — hashicorp/terraform-provider-random ad788e23
 *   `internal/provider/resource_password.go` (`passwordSchemaV3`): every
 *   argument (`keepers`, `length`, `special`, `upper`, `lower`, `number`,
 *   `numeric`, `min_*`, `override_special`).
 * - tls — hashicorp/terraform-provider-tls d72d90e1 (/work/shared/engine-src):
 *   `resource_private_key.go` `algorithm`, `rsa_bits`, `ecdsa_curve`;
 *   `resource_self_signed_cert.go` `private_key_pem`, `validity_period_hours`,
 *   `allowed_uses`, `dns_names`, `ip_addresses`, `uris`,
 *   `is_ca_certificate`, `max_path_length`, `set_subject_key_id`,
 *   `set_authority_key_id`, `subject`; `resource_cert_request.go`
 *   `private_key_pem`, `dns_names`, `ip_addresses`, `uris`, `subject`;
 *   `resource_locally_signed_cert.go` `cert_request_pem`, `ca_private_key_pem`,
 *   `ca_cert_pem`, `validity_period_hours`, `allowed_uses`,
 *   `is_ca_certificate`, `max_path_length`, `set_subject_key_id` (and
 *   `ready_for_renewal`, an output, within `early_renewal_hours`).
 * - BootUserData — this package's own provider (src/hetzner/boot-user-data.ts):
 *   its `diff` replaces on `image`, `location`, `postgresMajor`.
 * - the admin `pulumi:providers:postgresql` — no input replaces it; its URN
 *   is what every server resource's provider reference names, and a new
 *   provider URN replaces them all (pulumi/pulumi `step_generator.go`).
 */

/** What a type keeps. */
export interface KeptInputs {
  /** Inputs whose change replaces the resource. */
  forceNew: readonly string[];
  /** Inputs whose change renames it in place. */
  renames: readonly string[];
}

export const KEPT: Readonly<Record<string, KeptInputs>> = {
  'postgresql:index/database:Database': { forceNew: ['template', 'encoding', 'lcCollate', 'lcCtype'], renames: ['name'] },
  'postgresql:index/role:Role': { forceNew: [], renames: ['name'] },
  'postgresql:index/grant:Grant': { forceNew: ['role', 'database', 'schema', 'objectType', 'objects', 'columns', 'withGrantOption'], renames: [] },
  'postgresql:index/grantRole:GrantRole': { forceNew: ['role', 'grantRole', 'withAdminOption'], renames: [] },
  'postgresql:index/defaultPrivileges:DefaultPrivileges': { forceNew: ['role', 'database', 'owner', 'schema', 'objectType', 'withGrantOption'], renames: [] },
  'pulumi:providers:postgresql': { forceNew: [], renames: [] },
  'aws:rds/instance:Instance': {
    forceNew: ['availabilityZone', 'backupTarget', 'characterSetName', 'customIamInstanceProfile', 'dbName', 'engine', 'kmsKeyId', 'ncharCharacterSetName', 'restoreToPointInTime', 'snapshotIdentifier', 'storageEncrypted', 'timezone', 'username'],
    renames: ['identifier'],
  },
  'aws:rds/subnetGroup:SubnetGroup': { forceNew: ['name', 'namePrefix'], renames: [] },
  'aws:rds/parameterGroup:ParameterGroup': { forceNew: ['description', 'family', 'name', 'namePrefix'], renames: [] },
  'aws:ec2/securityGroup:SecurityGroup': { forceNew: ['description', 'name', 'namePrefix', 'vpcId'], renames: [] },
  'hcloud:index/server:Server': { forceNew: ['image', 'location', 'userData', 'sshKeys'], renames: ['name'] },
  'hcloud:index/volume:Volume': { forceNew: ['location'], renames: ['name'] },
  'hcloud:index/volumeAttachment:VolumeAttachment': { forceNew: ['volumeId', 'serverId'], renames: [] },
  'hcloud:index/network:Network': { forceNew: ['ipRange'], renames: ['name'] },
  'hcloud:index/networkSubnet:NetworkSubnet': { forceNew: ['networkId', 'type', 'networkZone', 'ipRange', 'vswitchId'], renames: [] },
  'hcloud:index/firewall:Firewall': { forceNew: [], renames: ['name'] },
  'docker:index/volume:Volume': { forceNew: ['name', 'labels', 'driver', 'driverOpts'], renames: [] },
  'random:index/randomPassword:RandomPassword': {
    forceNew: ['keepers', 'length', 'special', 'upper', 'lower', 'number', 'numeric', 'minNumeric', 'minUpper', 'minLower', 'minSpecial', 'overrideSpecial'],
    renames: [],
  },
  'tls:index/privateKey:PrivateKey': { forceNew: ['algorithm', 'rsaBits', 'ecdsaCurve'], renames: [] },
  'tls:index/selfSignedCert:SelfSignedCert': {
    forceNew: ['privateKeyPem', 'validityPeriodHours', 'allowedUses', 'dnsNames', 'ipAddresses', 'uris', 'isCaCertificate', 'maxPathLength', 'setSubjectKeyId', 'setAuthorityKeyId', 'subject'],
    renames: [],
  },
  'tls:index/certRequest:CertRequest': { forceNew: ['privateKeyPem', 'dnsNames', 'ipAddresses', 'uris', 'subject'], renames: [] },
  'tls:index/locallySignedCert:LocallySignedCert': {
    forceNew: ['certRequestPem', 'caPrivateKeyPem', 'caCertPem', 'validityPeriodHours', 'allowedUses', 'isCaCertificate', 'maxPathLength', 'setSubjectKeyId'],
    renames: [],
  },
  'pulumi-nodejs:dynamic/postgres-strategies:BootUserData': { forceNew: ['image', 'location', 'postgresMajor'], renames: [] },
};
