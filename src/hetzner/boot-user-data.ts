/**
 * `BootUserData`: the user data a Hetzner server boots with, and the guard
 * of what the server is created from. A Pulumi dynamic resource (like
 * ServerReady: it changes nothing outside the state).
 *
 * Why: Hetzner cannot change a server's user data; a change replaces the
 * server. `HetznerPostgres` therefore gives the server the user data of the
 * moment it is created, and brings later changes (a renewed certificate, a
 * pgConfig or pg_hba change, a newer setup program) to the running server
 * through the `setupScript` output. This resource holds that boot user data:
 * - created: it holds the current user data;
 * - the user data changes, nothing else: it reports no change and keeps the
 *   old one (the engine keeps a resource's outputs when its provider sees no
 *   change), so the server stays — in the preview too;
 * - the image, the PostgreSQL major or the location changes, or (with
 *   `reprovision`) the user data apart from its TLS files (`rebuildKey`):
 *   it is replaced and holds the current user data, so the server that
 *   Hetzner then replaces boots the current user data, never the old
 *   server's (which is what `ignoreChanges` on the server would give it).
 *
 * Its `check` refuses, at preview and before any step, a change that
 * {@link checkServerChange} forbids (a new location; another major without
 * the explicit upgrade; another image without `reprovision`).
 *
 * The provider is serialized into the Pulumi state by Pulumi's closure
 * serializer, with what it calls (`checkServerChange`).
 */
import * as pulumi from '@pulumi/pulumi';
import { checkServerChange } from './plan';

/** Inputs of {@link BootUserData}. */
export interface BootUserDataArgs {
  /** The user data as rendered now (secret). */
  userData: pulumi.Input<string>;
  /** SHA-256 of the user data without its TLS files (see renderCloudConfig). */
  rebuildKey: pulumi.Input<string>;
  image: string;
  location: string;
  postgresMajor: number;
  /** `reprovisionOnUserDataChange`. */
  reprovision: boolean;
  /** `postgresMajorUpgradeFrom`; 0 when not upgrading. */
  postgresMajorUpgradeFrom: number;
}

/** The resource's inputs as the provider sees them. */
export interface BootUserDataInputs {
  userData: string;
  rebuildKey: string;
  image: string;
  location: string;
  postgresMajor: number;
  reprovision: boolean;
  postgresMajorUpgradeFrom: number;
}

/** Its outputs: the inputs, and the user data the server boots with. */
export interface BootUserDataOutputs extends BootUserDataInputs {
  bootUserData: string;
}

/** The provider (exported for the tests, which call it as the engine does). */
export const bootUserDataProvider = {
  async check(olds: Partial<BootUserDataInputs>, news: BootUserDataInputs): Promise<pulumi.dynamic.CheckResult> {
    if (olds.postgresMajor === undefined || olds.image === undefined || olds.location === undefined) return { inputs: news };
    const problem = checkServerChange(
      { image: olds.image, location: olds.location, postgresMajor: olds.postgresMajor },
      { image: news.image, location: news.location, postgresMajor: news.postgresMajor, reprovision: news.reprovision, ...(news.postgresMajorUpgradeFrom ? { postgresMajorUpgradeFrom: news.postgresMajorUpgradeFrom } : {}) },
    );
    return problem ? { inputs: news, failures: [{ property: problem.field, reason: `${problem.problem}. ${problem.fix}` }] } : { inputs: news };
  },
  async diff(_id: string, olds: BootUserDataOutputs, news: BootUserDataInputs): Promise<pulumi.dynamic.DiffResult> {
    // olds are the outputs: what the server booted with (unchanged since its creation).
    const replaces: string[] = (['image', 'location', 'postgresMajor'] as const).filter((k) => olds[k] !== news[k]);
    if (news.reprovision && olds.rebuildKey !== news.rebuildKey) replaces.push('rebuildKey');
    return { changes: replaces.length > 0, replaces, deleteBeforeReplace: false };
  },
  async create(inputs: BootUserDataInputs): Promise<pulumi.dynamic.CreateResult> {
    return { id: 'boot-user-data', outs: { ...inputs, bootUserData: inputs.userData } };
  },
};

/** Holds the server's boot user data and guards its generation (see the module doc). */
export class BootUserData extends pulumi.dynamic.Resource {
  /** The user data the server boots with (secret). */
  declare public readonly bootUserData: pulumi.Output<string>;

  constructor(name: string, args: BootUserDataArgs, opts?: pulumi.CustomResourceOptions) {
    super(bootUserDataProvider, name, { ...args, userData: pulumi.secret(args.userData), bootUserData: undefined }, { ...opts, additionalSecretOutputs: ['userData', 'bootUserData'] }, 'postgres-strategies', 'BootUserData');
  }
}
