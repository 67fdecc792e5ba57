// Encodes the health-check and check wire fixtures (test/fixtures/mesos-v1-executor/checks/*.txt,
// protobuf text format) with protoc, the official protobuf compiler, from upstream's own .proto
// files: bytes that neither our codec nor our schema subset produced. Writes checks-vectors.json.
// Usage: node scripts/make-checks-fixtures.mjs <apache/mesos checkout, or its bare git directory>
// Needs `protoc` on the PATH (Debian: protobuf-compiler). Not part of `npm test`.
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UPSTREAM_PROTOS, upstreamProtos } from './lib/upstream-protos.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const mesos = process.argv[2];
if (mesos === undefined) {
  console.error('usage: node scripts/make-checks-fixtures.mjs <apache/mesos checkout or bare git dir>');
  process.exit(2);
}
const { include, commit, cleanup } = upstreamProtos(mesos);
const protos = UPSTREAM_PROTOS;

const dir = join(root, 'test/fixtures/mesos-v1-executor/checks');
const vectors = [];
for (const file of readdirSync(dir).filter((f) => f.endsWith('.txt')).sort()) {
  const text = readFileSync(join(dir, file), 'utf8');
  // The first line of each file is a comment naming the message type: `# mesos.v1.executor.Event`.
  const type = /^# (mesos\.v1\.executor\.(?:Call|Event))$/m.exec(text)?.[1];
  if (type === undefined) throw new Error(`${file}: first line must be "# mesos.v1.executor.Call" or "# mesos.v1.executor.Event"`);
  const bytes = execFileSync('protoc', [`-I${include}`, `--encode=${type}`, protos[1]], { input: text });
  vectors.push({ name: file.replace(/\.txt$/, ''), kind: type.endsWith('Call') ? 'Call' : 'Event', protobuf_hex: bytes.toString('hex') });
}
cleanup();
const protoc = execFileSync('protoc', ['--version'], { encoding: 'utf8' }).trim();
const out = {
  about: `Encoded by ${protoc} (protoc --encode) from the text files in checks/, on apache/mesos ${commit} include/mesos/v1/*.proto`,
  vectors,
};
writeFileSync(join(root, 'test/fixtures/mesos-v1-executor/checks-vectors.json'), JSON.stringify(out, null, 2) + '\n');
console.log(`${vectors.length} vectors written`);
