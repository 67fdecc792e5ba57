// Job module references: files, file: URLs, packages, #names, MESOS_POOL_EXECUTOR_JOBS, --no-builtin-jobs.
import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { executorArgs, parseCommand } from '../../src/cli/args.js';
import { MesosExecutorError } from '../../src/errors.js';
import { JOBS_ENV, mergeJobModules, resolveJobModule } from '../../src/pool/job-modules.js';
import { resolvePoolOptions } from '../../src/pool/options.js';

const invalid = (pattern: RegExp) => (error: unknown) => {
  assert.ok(error instanceof MesosExecutorError, String(error));
  assert.equal(error.code, 'MPE_INVALID_OPTION');
  assert.match(error.message, pattern);
  return true;
};

// A project directory with a jobs file and two installed packages: one a require() can resolve,
// one exported to `import` only (which only the fallback resolves).
const project = mkdtempSync(join(tmpdir(), 'mpe-jobs-'));
after(() => rmSync(project, { recursive: true, force: true }));
writeFileSync(join(project, 'jobs.js'), 'export const a = () => 1;\n');
const plain = join(project, 'node_modules', 'plain-jobs');
mkdirSync(plain, { recursive: true });
writeFileSync(join(plain, 'package.json'), JSON.stringify({ name: 'plain-jobs', main: 'main.js' }));
writeFileSync(join(plain, 'main.js'), 'module.exports = {};\n');
const esm = join(project, 'node_modules', '@acme', 'jobs');
mkdirSync(join(esm, 'lib'), { recursive: true });
writeFileSync(
  join(esm, 'package.json'),
  JSON.stringify({ name: '@acme/jobs', type: 'module', exports: { '.': { import: './lib/index.js' }, './extra': { import: './lib/extra.js' } } }),
);
const url = (path: string) => pathToFileURL(path).href;

describe('job module references', () => {
  it('a path (./, absolute, or an existing relative file) or a file: URL is that file', () => {
    assert.equal(resolveJobModule('./jobs.js', project, 'x'), url(join(project, 'jobs.js')));
    assert.equal(resolveJobModule('jobs.js', project, 'x'), url(join(project, 'jobs.js')));
    assert.equal(resolveJobModule('/abs/jobs.js', project, 'x'), 'file:///abs/jobs.js');
    assert.equal(resolveJobModule('file:///abs/jobs.js', project, 'x'), 'file:///abs/jobs.js');
    assert.equal(resolveJobModule(new URL('file:///abs/jobs.js#a,b'), project, 'x'), 'file:///abs/jobs.js#a,b');
  });

  it('a package specifier is resolved from the directory, also when exported to import only', () => {
    assert.equal(resolveJobModule('plain-jobs', project, 'x'), url(join(plain, 'main.js')));
    assert.equal(resolveJobModule('@acme/jobs', project, 'x'), url(join(esm, 'lib', 'index.js')));
    assert.equal(resolveJobModule('@acme/jobs/extra#thumb', project, 'x'), `${url(join(esm, 'lib', 'extra.js'))}#thumb`);
    assert.throws(() => resolveJobModule('@acme/missing', project, '--jobs @acme/missing'), invalid(/^--jobs @acme\/missing: no file or package "@acme\/missing" from /));
  });

  it('#names must be job names; other URL schemes are refused', () => {
    assert.equal(resolveJobModule('./jobs.js#a,b', project, 'x'), `${url(join(project, 'jobs.js'))}#a,b`);
    assert.throws(() => resolveJobModule('./jobs.js#a,../b', project, 'L'), invalid(/^L: "..\/b" after # is not a job name/));
    assert.throws(() => resolveJobModule('data:text/javascript,export default {}', project, 'L'), invalid(/^L: must be a file path, package or file: URL/));
    assert.throws(() => resolveJobModule(new URL('http://example.com/jobs.js'), project, 'L'), invalid(/http: URL/));
  });

  it('the same module twice is merged: every job wins over #names, #names add up', () => {
    assert.deepEqual(mergeJobModules(['file:///a.js#x', 'file:///b.js', 'file:///a.js#y', 'file:///b.js#z']), ['file:///a.js#x,y', 'file:///b.js']);
    assert.deepEqual(mergeJobModules(['file:///a.js#x', 'file:///a.js']), ['file:///a.js']);
  });

  it('the library option takes packages and #names too, resolved from the working directory', () => {
    const resolved = resolvePoolOptions({ jobs: [join(project, 'jobs.js#a'), join(project, 'jobs.js#b')] });
    assert.deepEqual(resolved.jobModules, [`${url(join(project, 'jobs.js'))}#a,b`]);
  });
});

describe('command line job options', () => {
  const cwd = process.cwd();
  after(() => process.chdir(cwd));

  it(`${JOBS_ENV} (':'-separated) comes before --jobs; both resolve from the working directory`, () => {
    process.chdir(project);
    try {
      const command = parseCommand(['--jobs', '@acme/jobs'], { [JOBS_ENV]: `./jobs.js#a::plain-jobs` });
      if (command.kind !== 'executor') return assert.fail(command.kind);
      assert.deepEqual(command.options.jobs, [`${url(join(project, 'jobs.js'))}#a`, url(join(plain, 'main.js')), url(join(esm, 'lib', 'index.js'))]);
      assert.equal(command.options.builtinJobs, true);
      // local passes them on as absolute URLs: its executor's cwd is a sandbox.
      const args = executorArgs(command.options);
      assert.deepEqual(args.filter((_, i) => args[i - 1] === '--jobs'), command.options.jobs);
    } finally {
      process.chdir(cwd);
    }
  });

  it('--no-builtin-jobs parses, passes through, and needs some module', () => {
    const command = parseCommand(['--no-builtin-jobs', '--jobs', join(project, 'jobs.js')], {});
    if (command.kind !== 'executor') return assert.fail(command.kind);
    assert.equal(command.options.builtinJobs, false);
    assert.ok(executorArgs(command.options).includes('--no-builtin-jobs'));
    assert.throws(() => parseCommand(['--no-builtin-jobs'], {}), invalid(/--no-builtin-jobs leaves no job at all/));
    const local = parseCommand(['local', '--no-builtin-jobs', '--jobs', join(project, 'jobs.js')], {});
    if (local.kind !== 'local') return assert.fail(local.kind);
    assert.equal(local.options.executor.builtinJobs, false);
  });

  it('a --jobs package that cannot be found is a configuration error at parse time', () => {
    assert.throws(() => parseCommand(['--jobs', 'no-such-package-xyz'], {}), invalid(/^--jobs no-such-package-xyz: no file or package "no-such-package-xyz"/));
  });
});
