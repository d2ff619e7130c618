/**
 * Server parameters that a minor release added to a stable branch: the
 * switch of a back-patched security fix. Which of them a server has
 * depends on its minor release (15.18 refuses `output_plugin_libraries`,
 * 15.19 has it), so they are kept out of the per-major data generated
 * from one server of each major (./data.ts, lab/gen-pg-settings.ts) and
 * recorded here by hand, with the first minor release of each major that
 * has them.
 *
 * Sources: PostgreSQL's own release notes, as Debian ships them
 * (`postgresql-doc-15` 15.20, `postgresql-doc-17` 17.12,
 * `postgresql-doc-18` 18.6: `release-15-19.html`, `release-15-20.html`,
 * `release-17-11.html`, `release-17-12.html`, `release-18-6.html`), and
 * the description of each parameter from the `pg_settings` of Debian's
 * PostgreSQL 15.20 (test/e2e/pg-settings.test.ts compares it with every
 * server it starts that has the parameter, and checks that a server older
 * than the recorded release lacks it):
 * - `output_plugin_libraries` (CVE-2026-6471, 2026-08-13): 15.19, 17.11,
 *   18.6 ("18.5 was never released");
 * - `composite_type_mismatch` (CVE-2026-6460, 2026-11-12): 15.20, 17.12
 *   (18.6, the newest 18 release there, does not have it).
 * A major not listed is not known: its releases of the same days were not
 * at hand (PostgreSQL 14 and 16 are in no Debian release this machine can
 * reach), so whether and from which release it has the parameter is not
 * recorded rather than guessed.
 */

/** A parameter that came with minor releases. */
export interface MinorReleaseParameter {
  /** Name as the server spells it. */
  name: string;
  /** pg_settings `vartype`. */
  vartype: string;
  /** pg_settings `context`. */
  context: string;
  /** Enum values, for an enum. */
  enumvals?: readonly string[];
  /** Per major, the minor number of the first release that has it (`{ 15: 19 }`: 15.19). A major not listed is not known. */
  since: Readonly<Record<number, number>>;
}

/** The parameters minor releases added, with the first release per major (see the sources above). */
export const MINOR_RELEASE_PARAMETERS: readonly MinorReleaseParameter[] = [
  { name: 'composite_type_mismatch', vartype: 'enum', context: 'superuser', enumvals: ['error', 'warn', 'disabled'], since: { 15: 20, 17: 12 } },
  { name: 'output_plugin_libraries', vartype: 'string', context: 'superuser', since: { 15: 19, 17: 11, 18: 6 } },
];
