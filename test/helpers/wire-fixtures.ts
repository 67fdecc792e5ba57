// The wire fixtures (test/fixtures/mesos-v1-executor: Calls and Events encoded by the official
// protobuf runtime, and the agent's JSON of each; its README says where they came from), found
// from the repository root wherever the compiled test runs. A missing file throws: never a skip.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './repo-root.js';

export interface Vector {
  name: string;
  kind: 'Call' | 'Event';
  note: string;
  protobuf_hex: string;
  json: Record<string, unknown>;
}

export interface Fixtures {
  vectors: Vector[];
  streams: { names: string[]; protobuf_recordio_hex: string; json_recordio_utf8: string };
}

export const fixturesPath = join(repoRoot, 'test', 'fixtures', 'mesos-v1-executor', 'vectors.json');

export function loadFixtures(): Fixtures {
  return JSON.parse(readFileSync(fixturesPath, 'utf8')) as Fixtures;
}

/** The raw text of vectors.json, whose doubles keep their `.0` (JSON.parse loses it). */
export function fixturesText(): string {
  return readFileSync(fixturesPath, 'utf8');
}

/** Splits a RecordIO stream (`<decimal length>\n<bytes>`...) into its records. */
export function splitRecordIO(stream: Uint8Array): Buffer[] {
  const buf = Buffer.from(stream);
  const out: Buffer[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const nl = buf.indexOf(0x0a, pos);
    if (nl === -1) throw new Error(`no newline after offset ${pos}`);
    const header = buf.subarray(pos, nl).toString('latin1');
    if (!/^\d+$/.test(header)) throw new Error(`bad RecordIO header '${header}'`);
    const length = Number(header);
    const end = nl + 1 + length;
    if (end > buf.length) throw new Error('truncated record');
    out.push(buf.subarray(nl + 1, end));
    pos = end;
  }
  return out;
}
