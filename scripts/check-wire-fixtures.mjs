// Checks the wire fixtures (test/fixtures/mesos-v1-executor/vectors.json) against upstream's own
// .proto files, independently of our codec and of our schema subset in src/proto/: every vector
// must decode and re-encode to the same bytes. protobufjs drops the fields its schema lacks, so a
// vector with a field upstream does not declare fails the byte comparison too.
// Usage: node scripts/check-wire-fixtures.mjs <apache/mesos checkout, or its bare git directory>
// Not part of `npm test`: it needs an upstream checkout, which the repository does not carry.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const mesos = process.argv[2];
if (mesos === undefined) {
  console.error('usage: node scripts/check-wire-fixtures.mjs <apache/mesos checkout or bare git dir>');
  process.exit(2);
}
const protos = ['mesos/v1/mesos.proto', 'mesos/v1/executor/executor.proto'];

// A work tree has include/; a bare repository (a mirror) is read with `git show`.
let include = join(mesos, 'include');
let scratch;
if (!existsSync(join(include, protos[0]))) {
  scratch = mkdtempSync(join(tmpdir(), 'mesos-protos-'));
  include = scratch;
  for (const p of protos) {
    const text = execFileSync('git', ['--git-dir', mesos, 'show', `HEAD:include/${p}`], { encoding: 'utf8' });
    mkdirSync(dirname(join(include, p)), { recursive: true });
    writeFileSync(join(include, p), text);
  }
}

const require = createRequire(join(root, 'package.json'));
const protobuf = require('protobufjs');
const pbRoot = new protobuf.Root();
pbRoot.resolvePath = (_origin, target) => join(include, target);
pbRoot.loadSync(protos[1], { keepCase: true });
pbRoot.resolveAll();

const fixtures = JSON.parse(readFileSync(join(root, 'test/fixtures/mesos-v1-executor/vectors.json'), 'utf8'));
let failures = 0;
for (const v of fixtures.vectors) {
  const type = pbRoot.lookupType(`mesos.v1.executor.${v.kind}`);
  const message = type.decode(Buffer.from(v.protobuf_hex, 'hex'));
  const same = Buffer.from(type.encode(message).finish()).toString('hex') === v.protobuf_hex;
  if (!same) failures++;
  console.log(`${same ? 'ok  ' : 'FAIL'} ${v.name}${same ? '' : ': re-encoding differs'}`);
}
if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
console.log(`${fixtures.vectors.length - failures}/${fixtures.vectors.length} vectors match upstream's schema`);
process.exit(failures === 0 ? 0 : 1);

