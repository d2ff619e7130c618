// First import of postgres-strategies/hetzner: its provider SDKs are optional peer dependencies
// (src/provisioning/peer-dependencies.ts), checked before any module that loads them.
import { requirePeers } from '../provisioning/peer-dependencies';

requirePeers('postgres-strategies/hetzner', ['@pulumi/hcloud', '@pulumi/tls']);
