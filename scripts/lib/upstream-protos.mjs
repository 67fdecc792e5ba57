// Upstream's executor .proto files from an apache/mesos checkout (its include/) or, for a bare
// git directory (a mirror), read out of HEAD into a scratch folder. Shared by the fixture scripts.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** The files, relative to the include folder; the executor's imports the other. */
export const UPSTREAM_PROTOS = ['mesos/v1/mesos.proto', 'mesos/v1/executor/executor.proto'];

/**
 * `{ include, commit, cleanup }`: the folder holding UPSTREAM_PROTOS, the commit they came from
 * ('work tree' for a checkout), and a function removing any scratch folder.
 */
export function upstreamProtos(mesos) {
  const include = join(mesos, 'include');
  if (existsSync(join(include, UPSTREAM_PROTOS[0]))) return { include, commit: 'work tree', cleanup: () => {} };
  const scratch = mkdtempSync(join(tmpdir(), 'mesos-protos-'));
  for (const p of UPSTREAM_PROTOS) {
    const text = execFileSync('git', ['--git-dir', mesos, 'show', `HEAD:include/${p}`], { encoding: 'utf8' });
    mkdirSync(dirname(join(scratch, p)), { recursive: true });
    writeFileSync(join(scratch, p), text);
  }
  const commit = execFileSync('git', ['--git-dir', mesos, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
  return { include: scratch, commit, cleanup: () => rmSync(scratch, { recursive: true, force: true }) };
}
