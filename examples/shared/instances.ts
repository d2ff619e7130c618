/**
 * The primary seed's Strategy 3 instances: blog, admin and api, each with the
 * seed's per-instance pools (gateway `pool.max_conns: 5`, `min_conns: 1`) and
 * a Kratos pool of the same size.
 */
import { InstanceSpec } from 'postgres-strategies';

export const seedInstances: InstanceSpec[] = ['blog', 'admin', 'api'].map((name) => ({
  name,
  gatewayPool: { maxConns: 5, minConns: 1 },
  kratosPool: { maxConns: 5, maxIdleConns: 1 },
}));
