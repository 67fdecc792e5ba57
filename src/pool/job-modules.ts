// Job module references (`--jobs`, `options.jobs`, MESOS_POOL_EXECUTOR_JOBS) → absolute file:
// URLs, resolved once against one directory (the sandbox under Mesos), so a worker thread
// imports exactly what the operator named. A `#name,name` suffix selects named exports; it is
// carried to the workers as the URL's fragment (workers/registry.ts reads it back).
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { InvalidOptionError } from '../errors.js';

/** The environment variable holding job modules, separated by `:` (`;` on Windows), like PATH. */
export const JOBS_ENV = 'MESOS_POOL_EXECUTOR_JOBS';

/** A job name (the same rule as workers/registry.ts). */
const JOB_NAME = /^[A-Za-z_$][\w$.-]{0,99}$/;
/** An npm package name, optionally with a subpath: `name`, `@scope/name`, `name/sub/path.js`. */
const PACKAGE_SPECIFIER = /^(?:@[a-z0-9][\w.~-]*\/)?[a-z0-9][\w.~-]*(?:\/[^#]*)?$/i;

function fail(label: string, message: string): never {
  throw new InvalidOptionError('jobs', `${label}: ${message}`);
}

/** `spec#a,b` → spec and names; no `#`: every job of the module (undefined). */
function splitNames(text: string, label: string): { spec: string; names: readonly string[] | undefined } {
  const at = text.lastIndexOf('#');
  if (at === -1) return { spec: text, names: undefined };
  const names = text.slice(at + 1).split(',');
  for (const name of names) {
    if (!JOB_NAME.test(name)) fail(label, `"${name}" after # is not a job name (e.g. jobs.js#resize,thumbnail)`);
  }
  return { spec: text.slice(0, at), names };
}

/** The first target of a package.json `exports` value for an ESM import by Node. */
function exportTarget(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) {
    for (const item of value) {
      const target = exportTarget(item);
      if (target !== undefined) return target;
    }
    return undefined;
  }
  if (value === null || typeof value !== 'object') return undefined;
  // Node picks the first condition, in the object's order, that it matches.
  for (const [condition, target] of Object.entries(value as Record<string, unknown>)) {
    if (condition === 'node' || condition === 'import' || condition === 'default' || condition === 'module-sync') {
      const found = exportTarget(target);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

/**
 * For a package only exported to `import` (which createRequire cannot resolve): finds
 * node_modules/<name> from `from` upwards and reads its `exports` for the subpath (no patterns).
 */
function resolveImportOnly(spec: string, from: string): string | undefined {
  const parts = spec.split('/');
  const nameLength = spec.startsWith('@') ? 2 : 1;
  const name = parts.slice(0, nameLength).join('/');
  const subpath = parts.length > nameLength ? `./${parts.slice(nameLength).join('/')}` : '.';
  for (let dir = from; ; dir = dirname(dir)) {
    const manifest = join(dir, 'node_modules', name, 'package.json');
    if (existsSync(manifest)) {
      const pkg = JSON.parse(readFileSync(manifest, 'utf8')) as { exports?: unknown };
      const exports = pkg.exports;
      const entry =
        exports !== null && typeof exports === 'object' && !Array.isArray(exports) && Object.keys(exports).some((k) => k.startsWith('.'))
          ? (exports as Record<string, unknown>)[subpath]
          : subpath === '.'
            ? exports
            : undefined;
      const target = exportTarget(entry);
      return target === undefined ? undefined : join(dirname(manifest), target);
    }
    if (dirname(dir) === dir) return undefined;
  }
}

function resolvePackage(spec: string, from: string, label: string): string {
  try {
    return createRequire(join(from, 'noop.js')).resolve(spec);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === 'ERR_PACKAGE_PATH_NOT_EXPORTED') {
      const found = resolveImportOnly(spec, from);
      if (found !== undefined) return found;
    }
    return fail(label, `no file or package "${spec}" from ${from}: ${(error as Error).message.split('\n')[0]}`);
  }
}

/**
 * One job module reference → `file:///abs/module.js` (plus `#names` when given). A reference is
 * a `file:` URL; a path (absolute, `./` or `../`, or any relative path naming an existing file);
 * else a package specifier (`@acme/jobs`, `acme-jobs/extra.js`) resolved as from a module in
 * `from`. Other URL schemes (data:, http:) are refused: only this configuration names code.
 */
export function resolveJobModule(entry: string | URL, from: string, label: string): string {
  if (entry instanceof URL) {
    if (entry.protocol !== 'file:') fail(label, `must be a file path, package or file: URL, got a ${entry.protocol} URL`);
    const names = entry.hash === '' ? undefined : splitNames(decodeURIComponent(entry.hash), label).names;
    const bare = new URL(entry.href);
    bare.hash = '';
    return withNames(bare.href, names);
  }
  if (typeof entry !== 'string' || entry === '') fail(label, 'must be a non-empty file path, package or file: URL');
  const { spec, names } = splitNames(entry, label);
  if (spec.startsWith('file:')) return withNames(new URL(spec).href, names);
  if (/^[a-z][a-z0-9+.-]+:/i.test(spec) && !isAbsolute(spec)) fail(label, `must be a file path, package or file: URL, got ${JSON.stringify(spec)}`);
  const asPath = resolve(from, spec);
  const explicitPath = isAbsolute(spec) || spec.startsWith('./') || spec.startsWith('../') || spec === '.' || spec === '..';
  if (explicitPath || isFile(asPath) || !PACKAGE_SPECIFIER.test(spec)) return withNames(pathToFileURL(asPath).href, names);
  return withNames(pathToFileURL(resolvePackage(spec, from, label)).href, names);
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function withNames(href: string, names: readonly string[] | undefined): string {
  return names === undefined ? href : `${href}#${names.join(',')}`;
}

/**
 * Merges references to the same module: listed once with every job and once with `#a` is every
 * job; `#a` and `#b` is `#a,b`. Keeps the first-seen order (registration order).
 */
export function mergeJobModules(urls: readonly string[]): string[] {
  const merged = new Map<string, Set<string> | 'all'>();
  for (const url of urls) {
    const at = url.indexOf('#');
    const base = at === -1 ? url : url.slice(0, at);
    const seen = merged.get(base);
    if (at === -1) merged.set(base, 'all');
    else if (seen !== 'all') {
      const names = seen ?? new Set<string>();
      for (const name of url.slice(at + 1).split(',')) names.add(name);
      merged.set(base, names);
    }
  }
  return [...merged].map(([base, names]) => (names === 'all' ? base : `${base}#${[...names].join(',')}`));
}

/** The entries of MESOS_POOL_EXECUTOR_JOBS (empty entries skipped), or none. */
export function jobsFromEnvironment(env: Readonly<Record<string, string | undefined>>, delimiter: string): string[] {
  const value = env[JOBS_ENV];
  if (value === undefined) return [];
  return value.split(delimiter).map((s) => s.trim()).filter((s) => s !== '');
}
