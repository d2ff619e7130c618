/**
 * The object store, through the AWS SDK for JavaScript v3
 * (`@aws-sdk/client-s3`, multipart uploads with `@aws-sdk/lib-storage`):
 * AWS S3, Hetzner Object Storage or any S3-compatible store.
 *
 * Settings come from the standard AWS SDK variables, read by the SDK itself
 * where it reads them (credentials: `AWS_ACCESS_KEY_ID`,
 * `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, profiles, roles) and here
 * for what a message names: `AWS_REGION` (or `AWS_DEFAULT_REGION`),
 * `AWS_ENDPOINT_URL_S3` (or `AWS_ENDPOINT_URL`), `AWS_CA_BUNDLE` (a PEM file
 * of CAs for a store with a private CA, which the JavaScript SDK does not
 * read itself). Path-style addressing (`https://endpoint/bucket/key`) is on
 * whenever an endpoint is given, unless `POSTGRES_STRATEGIES_S3_PATH_STYLE=0`.
 *
 * The SDK is loaded on first use: `require('@aws-sdk/client-s3')` costs
 * about 0.4 s, which no other command of the package pays.
 */
import { readFileSync } from 'node:fs';
import type { Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import { S3Location, S3_PATH_STYLE_ENV, formatS3Location } from '../core/backup';
import { BackupError, BackupErrorCode } from './errors';

/** The store settings read from the environment. */
export interface StoreSettings {
  region: string;
  /** The endpoint URL; undefined: AWS S3. */
  endpoint?: string;
  pathStyle: boolean;
  /** Path of a CA bundle (`AWS_CA_BUNDLE`). */
  caBundle?: string;
}

/**
 * Reads the settings from an environment (pure).
 * @throws BackupError (`bad-input`) for an endpoint that is not an http(s) URL.
 */
export function storeSettingsFromEnv(env: NodeJS.ProcessEnv): StoreSettings {
  const region = env['AWS_REGION'] || env['AWS_DEFAULT_REGION'] || 'us-east-1';
  const endpointVar = env['AWS_ENDPOINT_URL_S3'] ? 'AWS_ENDPOINT_URL_S3' : env['AWS_ENDPOINT_URL'] ? 'AWS_ENDPOINT_URL' : undefined;
  const settings: StoreSettings = { region, pathStyle: false };
  if (endpointVar !== undefined) {
    const text = env[endpointVar] as string;
    let url: URL | undefined;
    try {
      url = new URL(text);
    } catch {
      url = undefined;
    }
    if (url === undefined || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
      throw new BackupError(BackupErrorCode.BadInput, endpointVar, `"${text}" is not an http(s) URL`, 'Give the store\'s endpoint, e.g. https://fsn1.your-objectstorage.com');
    }
    settings.endpoint = url.origin;
    settings.pathStyle = true;
  }
  const style = env[S3_PATH_STYLE_ENV];
  if (style === '0') settings.pathStyle = false;
  if (style === '1') settings.pathStyle = true;
  if (env['AWS_CA_BUNDLE']) settings.caBundle = env['AWS_CA_BUNDLE'];
  return settings;
}

/** An object in a listing. */
export interface StoredObject {
  key: string;
  bytes: number;
  lastModified: Date;
}

/** What the commands do with the store. */
export interface ObjectStore {
  readonly settings: StoreSettings;
  /** Checks the bucket can be reached and listed. @throws BackupError (`store`) with the fix */
  check(location: S3Location, field: string): Promise<void>;
  /** Every object under a prefix. */
  list(bucket: string, prefix: string): Promise<StoredObject[]>;
  /** Uploads a stream (multipart) or a text; resolves to the bytes stored. An aborted upload leaves no object. */
  put(bucket: string, key: string, body: Readable | string): Promise<void>;
  /** Reads an object. */
  get(bucket: string, key: string): Promise<{ body: Readable; bytes: number }>;
  getText(bucket: string, key: string): Promise<string>;
  /** Whether an object exists. */
  exists(bucket: string, key: string): Promise<boolean>;
  delete(bucket: string, keys: string[]): Promise<void>;
  close(): void;
}

interface SdkError {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

/** Turns an SDK failure into a refusal that says what to fix. */
export function storeError(e: unknown, settings: StoreSettings, where: string, field: string): BackupError {
  if (e instanceof BackupError) return e;
  const err = e as SdkError;
  const name = err.name ?? '';
  const code = err.code ?? '';
  const status = err.$metadata?.httpStatusCode;
  const endpoint = settings.endpoint ?? `AWS S3 (${settings.region})`;
  const detail = `${name || code || 'error'}${status ? ` ${status}` : ''}: ${err.message ?? String(e)}`;
  const fail = (problem: string, fix: string): BackupError => new BackupError(BackupErrorCode.Store, field, problem, fix);
  if (name === 'CredentialsProviderError' || /Could not load credentials/i.test(err.message ?? '')) {
    return fail('no object-store credentials were found', 'Export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or an AWS profile) for the bucket');
  }
  if (name === 'NoSuchBucket' || (name === 'NotFound' && /bucket/i.test(where)) || (status === 404 && /bucket/i.test(where))) {
    return fail(`${where} does not exist on ${endpoint}`, 'Create the bucket first, or fix the location (s3://<bucket>/<prefix>) and AWS_ENDPOINT_URL_S3/AWS_REGION');
  }
  if (['InvalidAccessKeyId', 'SignatureDoesNotMatch', 'AccessDenied', 'Forbidden'].includes(name) || status === 403) {
    return fail(`${endpoint} refused the credentials for ${where} (${detail})`, 'Check AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, that the key may read and write this bucket, and AWS_REGION');
  }
  if (/CERT|SELF_SIGNED|UNABLE_TO_|ERR_TLS|ALTNAME/.test(code) || /certificate/i.test(err.message ?? '')) {
    return fail(`the TLS certificate of ${endpoint} does not verify (${detail})`, 'Give the CA that signed the store\'s certificate in AWS_CA_BUNDLE (a PEM file)');
  }
  if (['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET'].includes(code) || name === 'TimeoutError') {
    return fail(`cannot reach ${endpoint} (${code || name})`, 'Check AWS_ENDPOINT_URL_S3 (or AWS_REGION for AWS S3) and that this machine may reach the store');
  }
  return fail(`${where} on ${endpoint}: ${detail}`, 'Check the location, the credentials and AWS_ENDPOINT_URL_S3');
}

/** The AWS SDK's own switch for its Node.js support warning ({@link withoutNodeSupportWarning}). */
export const SDK_NODE_WARNING_ENV = 'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED';

/**
 * Runs `make` (which makes an SDK client) with the AWS SDK's Node.js support
 * warning off, unless the environment sets {@link SDK_NODE_WARNING_ENV}
 * itself (then as it says); the environment is left as it was.
 *
 * The SDK warns once per process, on Node.js before 22, that its releases
 * published after the first week of January 2027 require Node.js 22
 * (aws/aws-sdk-js-v3#7983). This package does not take those releases: its
 * range of the SDK stops at releases that support the Node.js 20.19 it
 * declares (package.json, `~` on the locked minor), so the warning is not
 * about anything its user runs, and `backup`, `restore` and a schedule's
 * logs stay free of it. The SDK remembers for the rest of the process that
 * it was handled: an application's own SDK clients in the same process do
 * not print it either.
 */
export function withoutNodeSupportWarning<T>(make: () => T, env: NodeJS.ProcessEnv = process.env): T {
  if (env[SDK_NODE_WARNING_ENV] !== undefined) return make();
  env[SDK_NODE_WARNING_ENV] = 'true';
  try {
    return make();
  } finally {
    delete env[SDK_NODE_WARNING_ENV];
  }
}

/** Opens the store for the given settings (loads the SDK). */
export function openStore(settings: StoreSettings = storeSettingsFromEnv(process.env)): ObjectStore {
  const sdk = require('@aws-sdk/client-s3') as typeof import('@aws-sdk/client-s3');
  const https = require('node:https') as typeof import('node:https');
  const client: S3Client = withoutNodeSupportWarning(
    () =>
      new sdk.S3Client({
        region: settings.region,
        ...(settings.endpoint !== undefined ? { endpoint: settings.endpoint } : {}),
        forcePathStyle: settings.pathStyle,
        // The bytes are checked against the manifest's SHA-256; the SDK's own CRC of each request stays on.
        ...(settings.caBundle !== undefined ? { requestHandler: { httpsAgent: new https.Agent({ ca: readFileSync(settings.caBundle), keepAlive: true }) } } : {}),
      }),
  );
  const wrap = async <T>(where: string, field: string, f: () => Promise<T>): Promise<T> => {
    try {
      return await f();
    } catch (e) {
      throw storeError(e, settings, where, field);
    }
  };
  const where = (bucket: string, key: string): string => `s3://${bucket}/${key}`;
  return {
    settings,
    check: (location, field) =>
      wrap(`bucket ${location.bucket}`, field, async () => {
        await client.send(new sdk.HeadBucketCommand({ Bucket: location.bucket }));
        await client.send(new sdk.ListObjectsV2Command({ Bucket: location.bucket, Prefix: location.prefix, MaxKeys: 1 }));
      }),
    list: (bucket, prefix) =>
      wrap(formatS3Location({ bucket, prefix }), '--from', async () => {
        const out: StoredObject[] = [];
        let token: string | undefined;
        do {
          const r = await client.send(new sdk.ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ...(token ? { ContinuationToken: token } : {}) }));
          for (const o of r.Contents ?? []) out.push({ key: o.Key as string, bytes: o.Size ?? 0, lastModified: o.LastModified ?? new Date(0) });
          token = r.IsTruncated ? r.NextContinuationToken : undefined;
        } while (token);
        return out;
      }),
    put: (bucket, key, body) =>
      wrap(where(bucket, key), '--to', async () => {
        if (typeof body === 'string') {
          await client.send(new sdk.PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: 'application/json' }));
          return;
        }
        const { Upload } = require('@aws-sdk/lib-storage') as typeof import('@aws-sdk/lib-storage');
        // 16 MiB parts, 4 at a time: a 1 GB dump is about 60 parts; a failure aborts the upload (no object).
        const upload = new Upload({ client, params: { Bucket: bucket, Key: key, Body: body }, partSize: 16 * 1024 * 1024, queueSize: 4, leavePartsOnError: false });
        await upload.done();
      }),
    get: (bucket, key) =>
      wrap(where(bucket, key), '--from', async () => {
        const r = await client.send(new sdk.GetObjectCommand({ Bucket: bucket, Key: key }));
        return { body: r.Body as Readable, bytes: r.ContentLength ?? 0 };
      }),
    getText: (bucket, key) =>
      wrap(where(bucket, key), '--from', async () => {
        const r = await client.send(new sdk.GetObjectCommand({ Bucket: bucket, Key: key }));
        return (await r.Body?.transformToString('utf8')) ?? '';
      }),
    exists: (bucket, key) =>
      wrap(where(bucket, key), '--from', async () => {
        try {
          await client.send(new sdk.HeadObjectCommand({ Bucket: bucket, Key: key }));
          return true;
        } catch (e) {
          const err = e as SdkError;
          if (err.name === 'NotFound' || err.name === 'NoSuchKey' || err.$metadata?.httpStatusCode === 404) return false;
          throw e;
        }
      }),
    delete: (bucket, keys) =>
      wrap(`s3://${bucket}`, '--to', async () => {
        for (let i = 0; i < keys.length; i += 1000) {
          const batch = keys.slice(i, i + 1000);
          // One DeleteObject each: some S3-compatible stores lack DeleteObjects' Content-MD5 handling.
          await Promise.all(batch.map((k) => client.send(new sdk.DeleteObjectCommand({ Bucket: bucket, Key: k }))));
        }
      }),
    close: () => client.destroy(),
  };
}
