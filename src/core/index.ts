/** The pure core: no Pulumi import anywhere below this folder. */
export * from './errors';
export * from './identifiers';
export * from './tls';
export * from './duration';
export * from './params';
export * from './dsn';
export * from './gateway';
export * from './env';
export * from './budget';
export * from './plan';
export * from './scram';
export * from './rotation';
export * from './render-sql';
export * from './server-config';
export * from './certificates';
export * from './kratos';
export * from './shell';
