/**
 * `postgres-strategies/hetzner`: self-managed PostgreSQL on Hetzner Cloud
 * (`HetznerPostgres`) and the pure plan and cloud-init renderer it is built on.
 */
import './peers'; // first: names a missing optional peer dependency (@pulumi/…) before anything loads it
export * from './component';
export * from './cloud-init';
export * from './debian';
export * from './network';
export * from './plan';
export * from './scripts';
export * from './server-ready';
export * from './boot-user-data';
export * from './backup';
