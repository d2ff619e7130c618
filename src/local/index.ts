/**
 * The local Docker strategy (seed Strategy 1): the pure stack plan and
 * docker-compose rendering, and the `LocalPostgres` component (@pulumi/docker).
 */
export * from './plan';
export * from './compose';
export * from './kratos-compose';
export { LocalPostgres, type LocalPostgresArgs, type LocalKratosArgs, type LocalInstance } from './component';
