// Checks the wire fixtures (test/fixtures/mesos-v1-executor/vectors.json) against upstream's own
// .proto files, independently of our codec and of our schema subset in src/proto/: every vector
// must decode and re-encode to the same bytes. protobufjs drops the fields its schema lacks, so a
// vector with a field upstream does not declare fails the byte comparison too.
// Usage: node scripts/check-wire-fixtures.mjs <apache/mesos checkout, or its bare git directory>
// Not part of `npm test`: it needs an upstream checkout, which the repository does not carry.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UPSTREAM_PROTOS, upstreamProtos } from './lib/upstream-protos.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const mesos = process.argv[2];
if (mesos === undefined) {
  console.error('usage: node scripts/check-wire-fixtures.mjs <apache/mesos checkout or bare git dir>');
  process.exit(2);
}
const { include, cleanup } = upstreamProtos(mesos);
const protos = UPSTREAM_PROTOS;

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
cleanup();
console.log(`${fixtures.vectors.length - failures}/${fixtures.vectors.length} vectors match upstream's schema`);
process.exit(failures === 0 ? 0 : 1);

