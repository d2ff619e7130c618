/**
 * RDS DB instance classes: memory per class, RDS's default `max_connections`
 * for PostgreSQL, and which classes offer Performance Insights.
 *
 * Sources:
 * - Memory per class: AWS "DB instance classes — hardware specifications"
 *   (RDS User Guide, Concepts.DBInstanceClass). Burstable `db.t3`/`db.t4g`
 *   classes double from 1 GiB (micro) to 32 GiB (2xlarge); general-purpose
 *   `db.m*` classes have 4 GiB per vCPU (large = 2 vCPU = 8 GiB);
 *   memory-optimized `db.r*` classes 8 GiB per vCPU (large = 16 GiB).
 * - `max_connections` default of RDS for PostgreSQL parameter groups:
 *   `LEAST({DBInstanceClassMemory/9531392}, 5000)` (AWS Prescriptive Guidance,
 *   "Tuning PostgreSQL parameters: max_connections").
 * - `DBInstanceClassMemory` is the class's memory less what the operating
 *   system and RDS's own processes keep; AWS does not publish it. Observed
 *   `SHOW max_connections` on default parameter groups (gist
 *   guizmaii/1cacffef793c2ba9645083c3e18b3d8c): db.t2.small (2 GiB) 198,
 *   db.t2.medium (4 GiB) 413, db.t2.large / db.m4.large (8 GiB) 856,
 *   db.r4.large (15.25 GiB) 1660 — 3–12 % below the formula on the nominal
 *   memory (225, 450, 901, 1718). The budget must never count slots the
 *   server does not have, so {@link estimatedDbInstanceClassMemory} takes
 *   off a conservative reserve (256 MiB + 3 % of the memory), which stays at
 *   or below every observed value.
 * - Performance Insights / CloudWatch Database Insights is not offered on
 *   db.t2/db.t3/db.t4g micro and small classes (AWS "DB engine, Region, and
 *   instance class support for Database Insights").
 */
import { ValidationError } from '../core/errors';

/** RDS's divisor: bytes of DBInstanceClassMemory per default connection slot. */
export const RDS_BYTES_PER_CONNECTION = 9531392;
/** RDS's cap on the default `max_connections`. */
export const RDS_MAX_CONNECTIONS_CAP = 5000;

const GIB = 1024 * 1024 * 1024;
const MIB = 1024 * 1024;

type Size = 'micro' | 'small' | 'medium' | 'large' | 'xlarge' | '2xlarge' | '4xlarge' | '8xlarge' | '12xlarge' | '16xlarge' | '24xlarge' | '32xlarge' | '48xlarge';

/** vCPUs of each size from `large` up (2 per large, doubling by the name's factor). */
const VCPUS: Partial<Record<Size, number>> = {
  large: 2, xlarge: 4, '2xlarge': 8, '4xlarge': 16, '8xlarge': 32, '12xlarge': 48, '16xlarge': 64, '24xlarge': 96, '32xlarge': 128, '48xlarge': 192,
};
const BURSTABLE_GIB: Partial<Record<Size, number>> = { micro: 1, small: 2, medium: 4, large: 8, xlarge: 16, '2xlarge': 32 };

const upTo = (last: Size): Size[] => {
  const order: Size[] = ['large', 'xlarge', '2xlarge', '4xlarge', '8xlarge', '12xlarge', '16xlarge', '24xlarge', '32xlarge', '48xlarge'];
  return order.slice(0, order.indexOf(last) + 1);
};

/** Families RDS for PostgreSQL offers, with their sizes (AWS instance class tables). */
const FAMILIES: ReadonlyArray<{ families: string[]; gibPerVcpu?: number; sizes: Size[] }> = [
  { families: ['db.t3', 'db.t4g'], sizes: ['micro', 'small', 'medium', 'large', 'xlarge', '2xlarge'] },
  { families: ['db.m5', 'db.m5d'], gibPerVcpu: 4, sizes: upTo('24xlarge') },
  { families: ['db.m6g', 'db.m6gd', 'db.m7g'], gibPerVcpu: 4, sizes: upTo('16xlarge') },
  { families: ['db.m6i', 'db.m6id'], gibPerVcpu: 4, sizes: upTo('32xlarge') },
  { families: ['db.m7i', 'db.m8g'], gibPerVcpu: 4, sizes: upTo('48xlarge').filter((s) => s !== '32xlarge') },
  { families: ['db.r5', 'db.r5d'], gibPerVcpu: 8, sizes: upTo('24xlarge') },
  { families: ['db.r6g', 'db.r6gd', 'db.r7g'], gibPerVcpu: 8, sizes: upTo('16xlarge') },
  { families: ['db.r6i', 'db.r6id'], gibPerVcpu: 8, sizes: upTo('32xlarge') },
  { families: ['db.r7i', 'db.r8g'], gibPerVcpu: 8, sizes: upTo('48xlarge').filter((s) => s !== '32xlarge') },
];

/** Memory of every known class, in GiB (e.g. `"db.t4g.micro"` → 1, `"db.r6g.large"` → 16). */
export const INSTANCE_CLASS_MEMORY_GIB: Readonly<Record<string, number>> = Object.freeze(
  Object.fromEntries(
    FAMILIES.flatMap((f) =>
      f.families.flatMap((family) =>
        f.sizes.map((size): [string, number] => [`${family}.${size}`, f.gibPerVcpu === undefined ? (BURSTABLE_GIB[size] as number) : (VCPUS[size] as number) * f.gibPerVcpu]),
      ),
    ),
  ),
);

/** Whether the class is in {@link INSTANCE_CLASS_MEMORY_GIB}. */
export function isKnownInstanceClass(instanceClass: string): boolean {
  return Object.prototype.hasOwnProperty.call(INSTANCE_CLASS_MEMORY_GIB, instanceClass);
}

/**
 * The class's memory in GiB.
 * @throws ValidationError naming `field` for a class not in the table.
 */
export function instanceClassMemoryGiB(instanceClass: string, field = 'instanceClass'): number {
  if (!isKnownInstanceClass(instanceClass)) {
    throw new ValidationError(
      field,
      `"${instanceClass}" is not an RDS for PostgreSQL instance class this library knows the memory of`,
      'Use a db.t3/t4g, db.m5/m6g/m6i/m7g/m7i/m8g or db.r5/r6g/r6i/r7g/r7i/r8g class (e.g. "db.t4g.medium"), or set pgConfig.max_connections so the connection budget does not depend on the class',
    );
  }
  return INSTANCE_CLASS_MEMORY_GIB[instanceClass] as number;
}

/**
 * A conservative estimate of RDS's `DBInstanceClassMemory` for a class
 * memory, in bytes: the memory less 256 MiB and 3 % (see the module doc for
 * the observed values it stays below).
 */
export function estimatedDbInstanceClassMemory(memoryGiB: number): number {
  const bytes = memoryGiB * GIB;
  return Math.max(0, Math.floor(bytes - 256 * MIB - bytes * 0.03));
}

/** RDS's formula, `LEAST({DBInstanceClassMemory/9531392}, 5000)`, for a memory in bytes. */
export function rdsMaxConnectionsFormula(dbInstanceClassMemoryBytes: number): number {
  return Math.min(Math.floor(dbInstanceClassMemoryBytes / RDS_BYTES_PER_CONNECTION), RDS_MAX_CONNECTIONS_CAP);
}

/**
 * The default `max_connections` of a class, as the connection budget counts
 * it: RDS's formula on the conservative {@link estimatedDbInstanceClassMemory}.
 * For db.t4g.micro (1 GiB) 81, db.t4g.medium (4 GiB) 408, db.m7g.large (8 GiB) 846,
 * db.r6g.large (16 GiB) 1720; from 64 GiB on the cap of 5000.
 * @throws ValidationError for a class not in the table.
 */
export function defaultMaxConnections(instanceClass: string, field = 'instanceClass'): number {
  return Math.max(1, rdsMaxConnectionsFormula(estimatedDbInstanceClassMemory(instanceClassMemoryGiB(instanceClass, field))));
}

/**
 * Whether Performance Insights (CloudWatch Database Insights) can be turned
 * on for the class: not on micro and small burstable classes.
 */
export function supportsPerformanceInsights(instanceClass: string): boolean {
  return !/^db\.t\d+g?\.(micro|small)$/.test(instanceClass);
}
