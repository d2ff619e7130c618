/**
 * A real CA certificate file (a public test CA, no key; valid until 2126) for
 * tests that give `ExternalPostgres` an `sslrootcert`: the component checks
 * at preview that the file exists and holds a CA (issue 22 item 6).
 */
import { join } from 'node:path';

export const TEST_CA_FILE = join(__dirname, 'fixtures', 'ca.pem');
