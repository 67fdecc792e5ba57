// 1. Micro: RecordIO decode throughput (MB/s, records/s) of a typical event stream (per task
// one LAUNCH and three ACKNOWLEDGED), fed in 64 KiB chunks (socket reads), one record per chunk
// (the agent writes one chunk per event), and 7-byte chunks (every header split). Baseline: the
// decoder most executors carry (concatenate the chunk to a buffer, indexOf('\n'), parse, slice).
import { jsonCodec, protobufCodec, type Codec } from '../src/protocol/codec.js';
import { RecordIODecoder, encodeRecord } from '../src/protocol/recordio.js';
import { table, type BenchContext, type SectionOutput } from './lib/context.js';
import { acknowledgedEvent, launchEvent } from './lib/messages.js';
import { fmtCount, fmtRatio, sig } from './lib/stats.js';
import { consume, measureRate } from './lib/timing.js';

/** The usual hand-written decoder: Buffer.concat per chunk, then slice records off the front. */
class NaiveRecordIODecoder {
  #buffer: Buffer = Buffer.alloc(0);
  push(chunk: Buffer): Buffer[] {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    const records: Buffer[] = [];
    for (;;) {
      const nl = this.#buffer.indexOf(0x0a);
      if (nl === -1) break;
      const length = Number.parseInt(this.#buffer.toString('latin1', 0, nl), 10);
      if (this.#buffer.length < nl + 1 + length) break;
      records.push(this.#buffer.subarray(nl + 1, nl + 1 + length));
      this.#buffer = this.#buffer.subarray(nl + 1 + length);
    }
    return records;
  }
}

function stream(codec: Codec, tasks: number): { records: Buffer[]; bytes: Buffer } {
  const records: Buffer[] = [];
  for (let n = 1; n <= tasks; n++) {
    records.push(encodeRecord(codec.encodeEvent(launchEvent(n))));
    for (let i = 0; i < 3; i++) records.push(encodeRecord(codec.encodeEvent(acknowledgedEvent(n))));
  }
  return { records, bytes: Buffer.concat(records) };
}

function chunked(bytes: Buffer, size: number): Buffer[] {
  const chunks: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += size) chunks.push(bytes.subarray(at, Math.min(bytes.length, at + size)));
  return chunks;
}

interface Row {
  readonly stream: string;
  readonly chunking: string;
  readonly recordBytes: number;
  readonly oursMBps: number;
  readonly oursRecordsPerSec: number;
  readonly naiveMBps: number;
  readonly ratio: number;
}

export async function run(ctx: BenchContext): Promise<SectionOutput> {
  const budgetMs = ctx.quick ? 150 : 1500;
  const rows: Row[] = [];
  for (const [label, codec] of [
    ['protobuf', protobufCodec],
    ['JSON', jsonCodec],
  ] as const) {
    const { records, bytes } = stream(codec, 500);
    const variants: Array<[string, Buffer[]]> = [
      ['64 KiB chunks', chunked(bytes, 65_536)],
      ['1 record per chunk', records],
    ];
    if (codec === protobufCodec) variants.push(['7-byte chunks', chunked(bytes, 7)]);
    for (const [chunking, chunks] of variants) {
      const decodeAll = (make: () => { push(chunk: Buffer): unknown[] }) => (): number => {
        const decoder = make();
        let n = 0;
        for (const chunk of chunks) n += decoder.push(chunk).length;
        if (n !== records.length) throw new Error(`decoded ${n} of ${records.length} records`);
        consume(n);
        return n;
      };
      const ours = measureRate(decodeAll(() => new RecordIODecoder() as unknown as { push(chunk: Buffer): unknown[] }), { budgetMs });
      const naive = measureRate(decodeAll(() => new NaiveRecordIODecoder()), { budgetMs });
      rows.push({
        stream: label,
        chunking,
        recordBytes: Math.round(bytes.length / records.length),
        oursMBps: (ours.opsPerSec * bytes.length) / 1e6,
        oursRecordsPerSec: ours.opsPerSec * records.length,
        naiveMBps: (naive.opsPerSec * bytes.length) / 1e6,
        ratio: ours.opsPerSec / naive.opsPerSec,
      });
      ctx.log(`recordio ${label} ${chunking}: ${sig(rows.at(-1)!.oursMBps)} MB/s (naive ${sig(rows.at(-1)!.naiveMBps)} MB/s)`);
    }
  }
  const markdown = table(
    ['stream', 'chunking', 'avg record', 'ours MB/s', 'ours records/s', 'naive decoder MB/s', 'ours / naive'],
    rows.map((r) => [r.stream, r.chunking, `${r.recordBytes} B`, `${sig(r.oursMBps)}`, fmtCount(r.oursRecordsPerSec), `${sig(r.naiveMBps)}`, fmtRatio(r.ratio)]),
  );
  return { data: { rows }, markdown };
}
