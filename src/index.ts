/**
 * postgres-strategies: Pulumi components that deploy PostgreSQL for an
 * application stack, and the pure core they are built on.
 *
 * The package root holds the core, the provisioning onto any server
 * (`ExternalPostgres`, `InstanceDatabase`, `SharedPostgres`), which load only
 * `@pulumi/postgresql` and `@pulumi/random`, and `migrateDatabase` (which
 * loads `pg` only when it runs). Each server-creating strategy is
 * its own subpath (package.json `exports`), so a stack loads only the
 * provider SDK it uses:
 *
 * | import                          | holds                                   | provider SDKs it loads   |
 * |---------------------------------|-----------------------------------------|--------------------------|
 * | `postgres-strategies`           | core + provisioning                     | postgresql, random       |
 * | `postgres-strategies/core`      | the pure core                           | none (no `@pulumi/*`)    |
 * | `postgres-strategies/local`     | `LocalPostgres` (Docker)                | + docker, tls            |
 * | `postgres-strategies/rds`       | `RdsPostgres` (AWS RDS)                 | + aws                    |
 * | `postgres-strategies/hetzner`   | `HetznerPostgres` (Hetzner Cloud)       | + hcloud, tls            |
 * | `postgres-strategies/managed`   | Neon / Supabase presets (pure)          | none                     |
 * | `postgres-strategies/migrate`   | `migrateDatabase` (pg_dump/pg_restore)  | none (`pg` on first use) |
 * | `postgres-strategies/backup`    | `backupDatabase`, `restoreDatabase`     | none (`pg`, AWS SDK on first use) |
 * | `postgres-strategies/preview-guard` | the data-loss guard for `pulumi preview --json` (pure; also here) | none |
 *
 * Do not add `export * from './local'` (or another strategy) here: the
 * package's tests (test/unit/packaging) check which SDKs each entry loads.
 */
export * from './core';
export * from './provisioning';
export * from './migrate';
export * from './preview-guard';
