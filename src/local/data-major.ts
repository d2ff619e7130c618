/**
 * `LocalDataMajor`: the guard of the PostgreSQL major a local data volume
 * holds. A Pulumi dynamic resource that changes nothing outside the state:
 * it records the volume's name, the image and its major, and its `check`
 * refuses, at `pulumi preview` and before any step of `pulumi up`, another
 * major over the same volume ({@link checkLocalMajorChange}), with the
 * upgrade procedure in the message. A new image of the same major, or a new
 * volume, updates the record.
 *
 * The provider is serialized into the Pulumi state by Pulumi's closure
 * serializer, with what it calls (`checkLocalMajorChange`).
 */
import * as pulumi from '@pulumi/pulumi';
import { DataGeneration, checkLocalMajorChange } from './image';

/** The provider (exported for the tests, which call it as the engine does). */
export const localDataMajorProvider = {
  async check(olds: Partial<DataGeneration>, news: DataGeneration): Promise<pulumi.dynamic.CheckResult> {
    if (olds.volume === undefined || olds.image === undefined || olds.major === undefined) return { inputs: news };
    const problem = checkLocalMajorChange({ volume: olds.volume, image: olds.image, major: olds.major }, news);
    return problem ? { inputs: news, failures: [{ property: problem.field, reason: `${problem.problem}. ${problem.fix}` }] } : { inputs: news };
  },
  async diff(_id: string, olds: DataGeneration, news: DataGeneration): Promise<pulumi.dynamic.DiffResult> {
    return { changes: olds.volume !== news.volume || olds.image !== news.image || olds.major !== news.major, replaces: [], deleteBeforeReplace: false };
  },
  async create(inputs: DataGeneration): Promise<pulumi.dynamic.CreateResult> {
    return { id: 'local-data-major', outs: inputs };
  },
  async update(_id: string, _olds: DataGeneration, news: DataGeneration): Promise<pulumi.dynamic.UpdateResult> {
    return { outs: news };
  },
};

/** Records the volume's PostgreSQL major and refuses another one over it (see the module doc). */
export class LocalDataMajor extends pulumi.dynamic.Resource {
  constructor(name: string, args: { volume: string; image: string; major: number }, opts?: pulumi.CustomResourceOptions) {
    super(localDataMajorProvider, name, args, opts, 'postgres-strategies', 'LocalDataMajor');
  }
}
