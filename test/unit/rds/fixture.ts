/**
 * Mock provider state for the AWS and random resources RdsPostgres reads
 * outputs of (not a test file): what AWS would compute on create — the
 * instance's address, port, endpoint and ARN, the Secrets Manager secret of
 * a managed master password, names generated from a name prefix — and a
 * RandomId's hex. Deterministic per logical resource name and independent
 * of the stack, so a difference between two stacks comes from the component.
 */
import { createHash } from 'node:crypto';

const hash = (text: string, chars: number): string => createHash('sha256').update(text).digest('hex').slice(0, chars);

export function rdsState(type: string, name: string, inputs: Record<string, unknown>): Record<string, unknown> | undefined {
  switch (type) {
    case 'aws:rds/instance:Instance': {
      const identifier = String(inputs['identifier']);
      const port = Number(inputs['port'] ?? 5432);
      const address = `${identifier}.c9akciq32lmn.eu-central-1.rds.amazonaws.com`;
      return {
        address,
        port,
        endpoint: `${address}:${port}`,
        arn: `arn:aws:rds:eu-central-1:123456789012:db:${identifier}`,
        ...(inputs['manageMasterUserPassword']
          ? { masterUserSecrets: [{ secretArn: `arn:aws:secretsmanager:eu-central-1:123456789012:secret:rds!db-${hash(name, 8)}`, kmsKeyId: '', secretStatus: 'active' }] }
          : {}),
      };
    }
    case 'aws:rds/subnetGroup:SubnetGroup':
    case 'aws:rds/parameterGroup:ParameterGroup':
    case 'aws:ec2/securityGroup:SecurityGroup':
      return { name: `${String(inputs['namePrefix'])}${hash(name, 12)}` };
    case 'random:index/randomId:RandomId':
      return { hex: hash(`id:${name}`, 2 * Number(inputs['byteLength'] ?? 4)) };
    default:
      return undefined;
  }
}
