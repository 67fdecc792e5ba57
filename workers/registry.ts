// Collecting job functions from job modules into a Map: a task's job name is only ever a key
// looked up here, never a path.
import type { Job } from './job.js';

/** Job names are printable identifiers-ish, so they read well in messages and logs. */
const JOB_NAME = /^[A-Za-z_$][\w$.-]{0,99}$/;

export class JobRegistryError extends Error {
  override readonly name = 'JobRegistryError';
}

export interface RegisteredJob {
  readonly job: Job;
  /** Where it came from (a module URL or "built-in"), for messages. */
  readonly source: string;
}

/**
 * Which exports of a module are jobs. `names` (from `module#a,b`): exactly those, each a named
 * export or a property of the default-exported object, and an error if one is missing. Else a
 * default-exported plain object: its function-valued own properties, and nothing else (the
 * module said which functions are jobs; its named exports are helpers). Else, for modules
 * written before that rule, every named function export.
 */
function selectJobs(namespace: Readonly<Record<string, unknown>>, source: string, names: readonly string[] | undefined): [string, unknown][] {
  const fallback = namespace['default'];
  const object = fallback !== null && typeof fallback === 'object' ? (fallback as Record<string, unknown>) : undefined;
  if (names !== undefined) {
    return names.map((name) => {
      const value = name !== 'default' && Object.hasOwn(namespace, name) ? namespace[name] : object !== undefined && Object.hasOwn(object, name) ? object[name] : undefined;
      if (typeof value !== 'function') throw new JobRegistryError(`job module ${source} has no job function "${name}" (named in #${names.join(',')})`);
      return [name, value];
    });
  }
  if (object !== undefined) return Object.entries(object).filter(([, value]) => typeof value === 'function');
  return Object.entries(namespace).filter(([name, value]) => name !== 'default' && typeof value === 'function');
}

/**
 * Adds the jobs of one module namespace (see selectJobs). A name already registered (by the
 * built-ins or an earlier module) is an error listing every such name: silently shadowing a job
 * would run the wrong code.
 */
export function addModuleJobs(
  registry: Map<string, RegisteredJob>,
  namespace: Readonly<Record<string, unknown>>,
  source: string,
  names?: readonly string[],
): number {
  const selected = selectJobs(namespace, source, names);
  for (const [name] of selected) {
    if (!JOB_NAME.test(name)) {
      throw new JobRegistryError(`job module ${source}: export "${name}" is not a valid job name (letters, digits, _ $ . -, starting with a letter, _ or $)`);
    }
  }
  const taken = new Map<string, string[]>();
  for (const [name] of selected) {
    const earlier = registry.get(name);
    if (earlier !== undefined) taken.set(earlier.source, [...(taken.get(earlier.source) ?? []), name]);
  }
  if (taken.size > 0) {
    const clashes = [...taken].map(([earlier, clashing]) => {
      const quoted = clashing.map((n) => `"${n}"`).join(', ');
      return `${clashing.length === 1 ? 'job' : 'jobs'} ${quoted} ${clashing.length === 1 ? 'is' : 'are'} exported by both ${earlier} and ${source}`;
    });
    const builtin = taken.has(BUILTIN_SOURCE) ? ' (rename them, or drop the built-ins: --no-builtin-jobs, builtinJobs: false)' : ' (rename them)';
    throw new JobRegistryError(`${clashes.join('; ')}${builtin}`);
  }
  for (const [name, value] of selected) registry.set(name, { job: value as Job, source });
  if (selected.length === 0) throw new JobRegistryError(`job module ${source} exports no job functions`);
  return selected.length;
}

/** The source of the built-in jobs, in messages. */
export const BUILTIN_SOURCE = 'built-in jobs';

/**
 * Imports each module once and registers its jobs, after the built-ins (when given). A URL's
 * fragment (`#a,b`, from `--jobs module#a,b`) names the exports to register.
 */
export async function loadJobRegistry(
  moduleUrls: readonly string[],
  builtins: Readonly<Record<string, unknown>> | undefined,
): Promise<Map<string, RegisteredJob>> {
  const registry = new Map<string, RegisteredJob>();
  if (builtins !== undefined) addModuleJobs(registry, builtins, BUILTIN_SOURCE);
  for (const url of moduleUrls) {
    const at = url.indexOf('#');
    const base = at === -1 ? url : url.slice(0, at);
    const names = at === -1 ? undefined : url.slice(at + 1).split(',');
    let namespace: Record<string, unknown>;
    try {
      namespace = (await import(base)) as Record<string, unknown>;
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new JobRegistryError(`job module ${base} failed to load: ${reason}`, { cause: error });
    }
    addModuleJobs(registry, namespace, base, names);
  }
  return registry;
}
