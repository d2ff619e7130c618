/**
 * postgres-strategies: Pulumi components that deploy PostgreSQL for an
 * application stack, and the pure core they are built on.
 */
export * from './core';
export * from './provisioning';
export * from './local';
