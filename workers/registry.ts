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
 * Adds the jobs of one module namespace: its named function exports, and the function-valued
 * own properties of a default-exported plain object. A name seen twice (in this module or an
 * earlier one) is an error: silently shadowing a job would run the wrong code.
 */
export function addModuleJobs(registry: Map<string, RegisteredJob>, namespace: Readonly<Record<string, unknown>>, source: string): number {
  let added = 0;
  const add = (name: string, value: unknown): void => {
    if (typeof value !== 'function') return;
    if (!JOB_NAME.test(name)) {
      throw new JobRegistryError(`job module ${source}: export "${name}" is not a valid job name (letters, digits, _ $ . -, starting with a letter, _ or $)`);
    }
    const earlier = registry.get(name);
    if (earlier !== undefined) {
      throw new JobRegistryError(`job "${name}" is exported by both ${earlier.source} and ${source}`);
    }
    registry.set(name, { job: value as Job, source });
    added++;
  };
  for (const [name, value] of Object.entries(namespace)) {
    if (name !== 'default') add(name, value);
  }
  const fallback = namespace['default'];
  if (fallback !== null && typeof fallback === 'object') {
    for (const [name, value] of Object.entries(fallback as Record<string, unknown>)) add(name, value);
  }
  if (added === 0) throw new JobRegistryError(`job module ${source} exports no job functions`);
  return added;
}

/** Imports each module once and registers its jobs, after the built-ins (when given). */
export async function loadJobRegistry(
  moduleUrls: readonly string[],
  builtins: Readonly<Record<string, unknown>> | undefined,
): Promise<Map<string, RegisteredJob>> {
  const registry = new Map<string, RegisteredJob>();
  if (builtins !== undefined) addModuleJobs(registry, builtins, 'built-in jobs');
  for (const url of moduleUrls) {
    let namespace: Record<string, unknown>;
    try {
      namespace = (await import(url)) as Record<string, unknown>;
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new JobRegistryError(`job module ${url} failed to load: ${reason}`, { cause: error });
    }
    addModuleJobs(registry, namespace, url);
  }
  return registry;
}
