/**
 * The AWS RDS strategy: the pure plan (instance classes and their
 * max_connections, parameter group, defaults and validation) and the
 * `RdsPostgres` component (@pulumi/aws). Import it from
 * `postgres-strategies/rds`: the package root does not load @pulumi/aws.
 */
import './peers'; // first: names a missing optional peer dependency (@pulumi/…) before anything loads it
export * from './instance-classes';
export * from './parameters';
export * from './plan';
export { RdsPostgres, type RdsPostgresArgs } from './component';
