/**
 * Presets for managed PostgreSQL services: typed functions that fill
 * `ExternalPostgres`'s arguments (direct endpoint for the admin and
 * migrations, pooled endpoint for the app clients) and the seed's client
 * defaults from what each provider's dashboard shows, plus the provider's
 * own connection string and the gateway's `database:` block. Pure: no
 * Pulumi runtime import.
 */
export * from './common';
export * from './neon';
export * from './supabase';
export * from './tls-enforced';
