// Encodes the health-check and check wire fixtures (test/fixtures/mesos-v1-executor/checks/*.txt,
// protobuf text format) with protoc, the official protobuf compiler, from upstream's own .proto
// files: bytes that neither our codec nor our schema subset produced. Writes checks-vectors.json.
// Usage: node scripts/make-checks-fixtures.mjs <apache/mesos checkout, or its bare git directory>
// Needs `protoc` on the PATH (Debian: protobuf-compiler). Not part of `npm test`.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const mesos = process.argv[2];
if (mesos === undefined) {
  console.error('usage: node scripts/make-checks-fixtures.mjs <apache/mesos checkout or bare git dir>');
  process.exit(2);
}
const protos = ['mesos/v1/mesos.proto', 'mesos/v1/executor/executor.proto'];
let include = join(mesos, 'include');
let scratch;
let commit = 'work tree';
if (!existsSync(join(include, protos[0]))) {
  scratch = mkdtempSync(join(tmpdir(), 'mesos-protos-'));
  include = scratch;
  for (const p of protos) {
    const text = execFileSync('git', ['--git-dir', mesos, 'show', `HEAD:include/${p}`], { encoding: 'utf8' });
    mkdirSync(dirname(join(include, p)), { recursive: true });
    writeFileSync(join(include, p), text);
  }
  commit = execFileSync('git', ['--git-dir', mesos, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
}

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
if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
const protoc = execFileSync('protoc', ['--version'], { encoding: 'utf8' }).trim();
const out = {
  about: `Encoded by ${protoc} (protoc --encode) from the text files in checks/, on apache/mesos ${commit} include/mesos/v1/*.proto`,
  vectors,
};
writeFileSync(join(root, 'test/fixtures/mesos-v1-executor/checks-vectors.json'), JSON.stringify(out, null, 2) + '\n');
console.log(`${vectors.length} vectors written`);
