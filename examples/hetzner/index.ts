/**
 * Self-managed PostgreSQL on Hetzner Cloud: a private network, a Debian 12
 * server with PostgreSQL 15 configured by cloud-init (data on a retained
 * volume, TLS with a private CA, SCRAM only), and the primary seed's
 * Strategy 3 on it: blog, admin and api, one database and login role each.
 *
 * Configure (namespace `postgres-strategies`; hcloud:token for the provider):
 *   pulumi config set --secret hcloud:token '...'
 *   pulumi config set postgres-strategies:serverType cx23                 # required
 *   pulumi config set postgres-strategies:serverName db                   # default db-<stack> (Hetzner names are per project)
 *   pulumi config set postgres-strategies:location nbg1                   # default fsn1
 *   pulumi config set postgres-strategies:image debian-12                 # default debian-12
 *   pulumi config set postgres-strategies:volumeSize 40                   # GB, default 20 (retained data volume)
 *   pulumi config set postgres-strategies:hetznerBackups true             # Hetzner's own server backups (default false)
 *   pulumi config set postgres-strategies:sshAllowedCidrs '["203.0.113.7/32"]'   # default: SSH closed
 *   pulumi config set postgres-strategies:sshKeys '["ops"]'
 *   pulumi config set postgres-strategies:allowedCidrs '["10.8.0.0/24"]'  # clients besides the private subnet
 *   pulumi config set postgres-strategies:pgConfig '{"max_connections":100,"shared_buffers":"1GB"}'
 *   pulumi config set postgres-strategies:adminHost 10.0.1.10             # where this machine reaches the server
 *   pulumi config set postgres-strategies:adminSslRootCert ./postgres-ca.pem   # after the first `up`: verify-full
 *   pulumi config set postgres-strategies:backupKeep 7                    # nightly pg_dump, per database (default 7; 30 with S3)
 *   pulumi config set postgres-strategies:backupMaxAgeDays 14
 *   pulumi config set postgres-strategies:backupMinFreePercent 20         # no dump that leaves less free on the volume
 *   pulumi config set postgres-strategies:backupS3Endpoint https://fsn1.your-objectstorage.com   # optional
 *   pulumi config set postgres-strategies:backupS3Bucket my-pg-dumps
 *   pulumi config set postgres-strategies:backupS3Prefix db/               # default: none
 *   pulumi config set --secret postgres-strategies:backupS3AccessKeyId '...'
 *   pulumi config set --secret postgres-strategies:backupS3SecretAccessKey '...'
 * then `pulumi up` from a machine inside the private network (or over a VPN into it):
 * the admin provider connects to the private IP. Save the CA for the clients:
 *   pulumi stack output caPem > postgres-ca.pem
 * After a later `up` that changed the server (a renewed certificate — watch
 * serverCertificateExpiry —, pgConfig, allowedCidrs, volumeSize), apply it on the server:
 *   pulumi stack output --show-secrets setupScript | ssh root@<server> sh
 *   pulumi config set postgres-strategies:namePrefix vw_                  # default vw_
 *   pulumi config set postgres-strategies:instances '[{"name":"blog"}]'   # default blog, admin, api
 * Outputs with passwords are secrets: `pulumi stack output --show-secrets`.
 * In a shell without a terminal (CI, a script) every command needs what a prompt would ask:
 *   export PULUMI_CONFIG_PASSPHRASE='…'   # the passphrase of the stack's secrets (`pulumi login --local` stacks)
 *   pulumi up --yes                        # (and `pulumi destroy --yes`): no confirmation prompt
 */
import * as pulumi from '@pulumi/pulumi';
import { InstanceSpec, SharedPostgres } from 'postgres-strategies';
import { ConfValue } from 'postgres-strategies/core';
import { HetznerPostgres, HetznerS3BackupArgs } from 'postgres-strategies/hetzner';
import { seedInstances } from '../shared/instances';

const cfg = new pulumi.Config('postgres-strategies');

const s3Bucket = cfg.get('backupS3Bucket');
const s3: HetznerS3BackupArgs | undefined = s3Bucket
  ? {
      endpoint: cfg.require('backupS3Endpoint'),
      bucket: s3Bucket,
      prefix: cfg.get('backupS3Prefix') ?? '',
      accessKeyId: cfg.requireSecret('backupS3AccessKeyId'),
      secretAccessKey: cfg.requireSecret('backupS3SecretAccessKey'),
    }
  : undefined;

const db = new HetznerPostgres('db', {
  serverType: cfg.require('serverType'),
  serverName: cfg.get('serverName'),
  location: cfg.get('location') ?? 'fsn1',
  image: cfg.get('image') ?? 'debian-12',
  volumeSize: cfg.getNumber('volumeSize') ?? 20,
  allowedCidrs: cfg.getObject<string[]>('allowedCidrs') ?? [],
  sshAllowedCidrs: cfg.getObject<string[]>('sshAllowedCidrs') ?? [],
  sshKeys: cfg.getObject<string[]>('sshKeys') ?? [],
  pgConfig: cfg.getObject<Record<string, ConfValue>>('pgConfig') ?? { max_connections: 100 },
  adminHost: cfg.get('adminHost'),
  adminSslRootCert: cfg.get('adminSslRootCert'),
  hetznerBackups: cfg.getBoolean('hetznerBackups') ?? false,
  backup: {
    keep: cfg.getNumber('backupKeep'),
    maxAgeDays: cfg.getNumber('backupMaxAgeDays') ?? 0,
    minFreePercent: cfg.getNumber('backupMinFreePercent'),
    ...(s3 ? { s3 } : {}),
  },
  labels: { app: 'vibewarden' },
});

const shared = new SharedPostgres('shared', {
  server: db.handle,
  namePrefix: cfg.get('namePrefix') ?? 'vw_',
  instances: cfg.getObject<InstanceSpec[]>('instances') ?? seedInstances,
});

/** The CA clients verify the server against (save as postgres-ca.pem). */
export const caPem = db.caPem;
/** The server's private IP (the host in every URL), ids and public addresses. */
export const privateIp = db.privateIp;
export const serverId = db.serverId;
export const volumeId = db.volumeId;
export const publicIpv4 = db.publicIpv4;
/** What a later `up` changed for the server, to run on it (secret: the TLS key). */
export const setupScript = db.setupScript;
/** When the certificate this stack issued expires (the server renews the one it serves itself, from 30 days before). */
export const serverCertificateExpiry = db.serverCertificateExpiry;
/** libpq URL per instance (secret). */
export const urls = shared.urls;
/** Kratos DSN per instance (secret). */
export const kratosDsns = shared.kratosDsns;
/** The checked connection budget. */
export const budget = shared.budget;
