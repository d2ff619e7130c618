/**
 * check-preview on Hetzner's certificates (issue 20): the server
 * certificate re-issued in its renewal window (the tls provider's
 * `readyForRenewal` replace, in every preview) or for new names, and — in a
 * `--show-sames` preview — a server certificate within 45 days of its
 * expiry or a CA within 400 days, with what to check on the server. Steps
 * are built from what HetznerPostgres registers under the mock runtime.
 */
import { installMocks, settled, RecordedResource } from '../../../lab/pulumi-mocks';
const rt = installMocks({ stack: 'prod' });

import { HetznerPostgres } from '../../../src/hetzner/component';
import { LocalPostgres } from '../../../src/local/component';
import { Finding, PreviewStep, checkPreview } from '../../../src/preview-guard';
import { previewOf } from './fixtures';

new HetznerPostgres('pg', { serverType: 'cx23' });
new LocalPostgres('auth', { tls: true });
jest.setTimeout(60_000);
beforeAll(settled);

const NOW = new Date('2027-06-01T00:00:00Z');
const inDays = (days: number): string => new Date(NOW.getTime() + days * 86_400_000).toISOString();

/** A step of `r` whose state says the certificate expires at `end`. */
function step(r: RecordedResource, op: 'same' | 'replace', end: string, replaceReasons: string[] = []): PreviewStep {
  const state = { urn: r.urn, type: r.type, custom: true, parent: r.parent, inputs: r.inputs, outputs: { ...r.inputs, validityEndTime: end } };
  return { op, urn: r.urn, oldState: state, newState: state, ...(op === 'replace' ? { diffReasons: replaceReasons, replaceReasons } : {}) };
}
const rows = (...steps: PreviewStep[]): [string, string, string, string[], string][] =>
  checkPreview(previewOf(...steps), { now: NOW }).map((f: Finding) => [f.severity, f.code, f.op, f.properties, f.resource]);
const CERT = 'server certificate (HetznerPostgres "pg")';

test('the server certificate re-issued in its last 30 days (every preview shows it): a warning naming the date and what to check on the server', () => {
  const findings = checkPreview(previewOf(step(rt.named('pg-server-cert'), 'replace', inDays(20), ['readyForRenewal'])), { now: NOW });
  expect(findings.map((f) => [f.severity, f.code, f.op, f.properties, f.resource])).toEqual([['warning', 'certificate-expiring', 'replace', ['readyForRenewal'], CERT]]);
  expect(findings[0]!.effect).toMatch(/is in its last 30 days \(it expires on 2027-06-21\) and is re-issued in the state\. A server set up by a release with its own renewal renews/);
  expect(findings[0]!.instead).toMatch(/openssl s_client -starttls postgres -connect <host>:5432/);
  expect(findings[0]!.instead).toMatch(/setupScript/);
  // Re-issued for another reason (new names): the same warning, naming them.
  expect(rows(step(rt.named('pg-server-cert'), 'replace', inDays(500), ['certRequestPem']))).toEqual([['warning', 'certificate-expiring', 'replace', ['certRequestPem'], CERT]]);
});

test('with --show-sames: a server certificate within 45 days of its expiry, or expired, and a CA within 400 days, warn; later ones do not', () => {
  expect(rows(step(rt.named('pg-server-cert'), 'same', inDays(40)))).toEqual([['warning', 'certificate-expiring', 'same', [], CERT]]);
  const expired = checkPreview(previewOf(step(rt.named('pg-server-cert'), 'same', inDays(-3))), { now: NOW });
  expect(expired[0]!.effect).toMatch(/^the one in the state expired on 2027-05-29 \(3 days ago\)/);
  expect(rows(step(rt.named('pg-server-cert'), 'same', inDays(46)))).toEqual([]);
  expect(rows(step(rt.named('pg-ca'), 'same', inDays(300)))).toEqual([['warning', 'certificate-expiring', 'same', [], 'CA certificate (HetznerPostgres "pg")']]);
  expect(rows(step(rt.named('pg-ca'), 'same', inDays(401)))).toEqual([]);
  // LocalPostgres' server certificate reaches its container with the container's replacement: nothing to say.
  expect(rows(step(rt.named('auth-server-cert'), 'same', inDays(10)), step(rt.named('auth-server-cert'), 'replace', inDays(10), ['readyForRenewal']))).toEqual([]);
});
