/**
 * A real S3-compatible object store for the backup suites: versity/versitygw
 * v1.8.0 (posix backend: each bucket a directory, each object a file, its
 * metadata in extended attributes), built from the Go module proxy by
 * lab/go-consumers.ts (test/consumers/versitygw) and cached under
 * .cache/go-consumers; serving HTTPS on 127.0.0.1 with a lab CA (the same
 * certificate plan the strategies use: CA + server certificate for
 * `localhost` and 127.0.0.1), because pgBackRest before 2.58 speaks only
 * HTTPS to S3.
 *
 * The root credentials go to versitygw through its environment
 * (ROOT_ACCESS_KEY_ID / ROOT_SECRET_ACCESS_KEY), never its arguments;
 * clients get them as the AWS SDK variables ({@link ObjectStoreLab.env}).
 * Objects are files under `<dir>/<bucket>/<key>`: a test alters a stored
 * object's bytes there, as someone with write access to a bucket could.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withoutNodeSupportWarning } from '../src/backup/store';
import { planServerCertificates } from '../src/core/certificates';
import { CertificateFiles, makeCertificates } from './certs';
import { GoConsumer, buildGoConsumer } from './go-consumers';
import { freePort } from './server';

/** versitygw v1.8.0 (test/consumers/versitygw: its `tool` line). */
export const VERSITYGW_CONSUMER: GoConsumer = {
  name: 'versitygw',
  pkg: 'github.com/versity/versitygw/cmd/versitygw',
  env: { CGO_ENABLED: '0' },
  // what versity's Makefile stamps (`versitygw --version`)
  ldflags: '-X main.Version=v1.8.0',
};

/** A running store. */
export interface ObjectStoreLab {
  /** `https://127.0.0.1:<port>`. */
  endpoint: string;
  host: string;
  port: number;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** The lab CA (PEM file) that signed the store's certificate. */
  caFile: string;
  certificates: CertificateFiles;
  /** The posix backend's root: `<dataDir>/<bucket>/<key>` are the objects. */
  dataDir: string;
  /** The AWS SDK variables a client of this store needs (credentials, region, endpoint, CA bundle). */
  env(): Record<string, string>;
  /** Creates a bucket. */
  createBucket(name: string): Promise<void>;
  /** The file that holds an object (altering it is bit rot: the store's own checksum no longer matches). */
  objectPath(bucket: string, key: string): string;
  /** Reads an object through S3. */
  getObject(bucket: string, key: string): Promise<Buffer>;
  /** Writes an object through S3, as anyone with write access to the bucket can (new checksums and all). */
  putObject(bucket: string, key: string, body: Buffer | string): Promise<void>;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
process.on('exit', () => running.forEach((c) => c.kill('SIGTERM')));

/**
 * Builds (once) and starts the store; resolves when it answers S3 requests.
 * @param options.buckets created at start.
 * @throws when the build or the start fails (with versitygw's output).
 */
export async function startObjectStore(options: { buckets?: string[]; parentDir?: string; addresses?: string[] } = {}): Promise<ObjectStoreLab> {
  const binary = await buildGoConsumer(VERSITYGW_CONSUMER);
  // More IPv4 addresses to serve on (and name in the certificate), e.g. the Docker bridge's gateway for containers.
  const extra = options.addresses ?? [];
  const workDir = mkdtempSync(join(options.parentDir ?? tmpdir(), 'ps-s3-'));
  const dataDir = join(workDir, 'data');
  mkdirSync(dataDir);
  const certificates = await makeCertificates(planServerCertificates({ dnsNames: ['localhost'], ipAddresses: ['127.0.0.1', '::1', ...extra] }));
  const caFile = join(workDir, 'ca.pem');
  const certFile = join(workDir, 'server.crt');
  const keyFile = join(workDir, 'server.key');
  writeFileSync(caFile, certificates.caCertPem);
  writeFileSync(certFile, certificates.serverCertPem);
  writeFileSync(keyFile, certificates.serverKeyPem, { mode: 0o600 });
  const port = await freePort();
  const region = 'us-east-1';
  const accessKeyId = `PSLAB${randomBytes(6).toString('hex').toUpperCase()}`;
  const secretAccessKey = randomBytes(24).toString('base64url');
  // 127.0.0.1 and ::1: `localhost` (the name pgBackRest verifies the certificate by) may resolve to either first.
  // Loaded before the store starts: a failing import leaves no process behind.
  const sdk = await import('@aws-sdk/client-s3');
  const listen = ['127.0.0.1', '[::1]', ...extra].flatMap((a) => ['--port', `${a}:${port}`]);
  const child = spawn(binary, [...listen, '--cert', certFile, '--key', keyFile, '--region', region, '--quiet', 'posix', dataDir], {
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ROOT_ACCESS_KEY_ID: accessKeyId, ROOT_SECRET_ACCESS_KEY: secretAccessKey },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let log = '';
  child.stdout!.on('data', (d) => (log += d));
  child.stderr!.on('data', (d) => (log += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const endpoint = `https://127.0.0.1:${port}`;
  const env = (): Record<string, string> => ({
    AWS_ACCESS_KEY_ID: accessKeyId,
    AWS_SECRET_ACCESS_KEY: secretAccessKey,
    AWS_REGION: region,
    AWS_ENDPOINT_URL_S3: endpoint,
    AWS_CA_BUNDLE: caFile,
  });
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
    running.delete(child);
    rmSync(workDir, { recursive: true, force: true });
  };
  const httpsAgent = new (await import('node:https')).Agent({ ca: certificates.caCertPem });
  const client = withoutNodeSupportWarning(() => new sdk.S3Client({ region, endpoint, forcePathStyle: true, credentials: { accessKeyId, secretAccessKey }, requestHandler: { httpsAgent } }));
  try {
    const started = Date.now();
    for (;;) {
      if (child.exitCode !== null) throw new Error(`versitygw exited ${child.exitCode}:\n${log}`);
      try {
        await client.send(new sdk.ListBucketsCommand({}));
        break;
      } catch (e) {
        if (Date.now() - started > 30_000) throw new Error(`versitygw did not answer within 30 s (${(e as Error).message}):\n${log}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    const createBucket = async (name: string): Promise<void> => {
      await client.send(new sdk.CreateBucketCommand({ Bucket: name }));
    };
    for (const b of options.buckets ?? []) await createBucket(b);
    return {
      endpoint,
      host: '127.0.0.1',
      port,
      region,
      accessKeyId,
      secretAccessKey,
      caFile,
      certificates,
      dataDir,
      env,
      createBucket,
      objectPath: (bucket, key) => join(dataDir, bucket, key),
      getObject: async (bucket, key) => Buffer.from(await (await client.send(new sdk.GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToByteArray()),
      putObject: async (bucket, key, body) => {
        await client.send(new sdk.PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
      },
      stop: async () => {
        client.destroy();
        await stop();
      },
    };
  } catch (e) {
    client.destroy();
    await stop();
    throw e;
  }
}
