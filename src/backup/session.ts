/**
 * What `backup` and `restore` both do first: parse the location and the
 * database URL, then connect to the server and check the bucket at once.
 * Every session and the store are closed by {@link withSessions}, whatever
 * happens; errors other than refusals lose every password on the way out.
 */
import type { Client } from 'pg';
import { S3Location, formatS3Location, parseS3Location } from '../core/backup';
import { Endpoint, connect, parseEndpoint, secretsOf } from '../migrate/connection';
import { MigrateError, redact } from '../migrate/errors';
import { BackupError } from './errors';
import { ObjectStore, openStore } from './store';

/** The opened ends of a run. */
export interface Opened {
  location: S3Location;
  endpoint: Endpoint;
  /** The passwords, kept out of every message. */
  secrets: string[];
  store: ObjectStore;
  /** The first session to the database. */
  client: Client;
  /** Every session opened (closed at the end); more may be pushed. */
  sessions: Client[];
}

/**
 * Opens both ends and runs `body`; closes the sessions (and the store it
 * opened) afterwards.
 * @param s3Field / dbField the options the location and the URL came from.
 */
export async function withSessions<T>(
  s3: { url: string; field: string },
  db: { url: string; field: string },
  given: ObjectStore | undefined,
  progress: (message: string) => void,
  body: (o: Opened) => Promise<T>,
): Promise<T> {
  const location = parseS3Location(s3.url, s3.field);
  const endpoint = parseEndpoint(db.url, db.field);
  const secrets = secretsOf(endpoint);
  const store = given ?? openStore();
  const sessions: Client[] = [];
  try {
    progress(`connecting to ${endpoint.host}:${endpoint.port}/${endpoint.database} and ${formatS3Location(location)}`);
    const [opened, checked] = await Promise.allSettled([connect(endpoint, secrets), store.check(location, s3.field)]);
    if (opened.status === 'fulfilled') sessions.push(opened.value);
    if (checked.status === 'rejected') throw checked.reason;
    if (opened.status === 'rejected') throw opened.reason;
    return await body({ location, endpoint, secrets, store, client: opened.value, sessions });
  } catch (e) {
    if (e instanceof MigrateError || e instanceof BackupError) throw e;
    throw new Error(redact(e instanceof Error ? e.message : String(e), secrets));
  } finally {
    await Promise.all(sessions.map((c) => c.end().catch(() => undefined)));
    if (given === undefined) store.close();
  }
}
