// 1. Micro: the Call/Event codec, ops/s, for a typical LAUNCH event (decoded by the executor)
// and a typical UPDATE call (encoded by the executor), in protobuf and Mesos JSON; ACKNOWLEDGED
// too (three per task). Baselines: protobufjs' own reflection codec for the same message types
// (what a straightforward executor would use), and for JSON, JSON.parse / JSON.stringify alone
// (a floor: no Mesos JSON rules, no validation).
//
// The protobufjs baseline loads the same .proto files into a Root of its own, as a
// straightforward executor would: ids stay `string` there. (Our schema redeclares every Mesos
// id's value as `bytes` to keep non-UTF-8 ids exact; protobufjs' fromObject would then read the
// plain string ids as base64.) Same fields, same wire bytes for these UTF-8 ids.
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { CALL_TYPE, EVENT_TYPE } from '../src/proto/schema.js';
import { jsonCodec, protobufCodec, type Codec } from '../src/protocol/codec.js';
import { table, type BenchContext, type SectionOutput } from './lib/context.js';
import { acknowledgedEvent, launchEvent, updateCall } from './lib/messages.js';
import { fmtCount, fmtRatio } from './lib/stats.js';
import { measureRate } from './lib/timing.js';

interface Row {
  readonly message: string;
  readonly encoding: string;
  readonly operation: 'encode' | 'decode';
  readonly bytes: number;
  readonly oursOpsPerSec: number;
  readonly baseline: string;
  readonly baselineOpsPerSec: number;
  readonly ratio: number;
}

const TO_OBJECT = { enums: String, longs: Number, bytes: Buffer, defaults: false } as const;

function stockTypes(): { call: protobuf.Type; event: protobuf.Type } {
  const root = new protobuf.Root();
  root.loadSync(fileURLToPath(new URL('../src/proto/executor.proto', import.meta.url)), { keepCase: true });
  root.resolveAll();
  return { call: root.lookupType(CALL_TYPE), event: root.lookupType(EVENT_TYPE) };
}

export async function run(ctx: BenchContext): Promise<SectionOutput> {
  const budgetMs = ctx.quick ? 110 : 1200;
  const rows: Row[] = [];
  const launch = launchEvent(42);
  const ack = acknowledgedEvent(42);
  const update = updateCall(42);
  const { event: eventType, call: callType } = stockTypes();
  const cases: Array<{ message: string; kind: 'event' | 'call'; value: object; ops: Array<'encode' | 'decode'> }> = [
    { message: 'LAUNCH event', kind: 'event', value: launch, ops: ['decode', 'encode'] },
    { message: 'ACKNOWLEDGED event', kind: 'event', value: ack, ops: ['decode'] },
    { message: 'UPDATE call', kind: 'call', value: update, ops: ['encode', 'decode'] },
  ];
  for (const c of cases) {
    for (const [encoding, codec] of [
      ['protobuf', protobufCodec],
      ['JSON', jsonCodec],
    ] as Array<[string, Codec]>) {
      const encode = c.kind === 'event' ? () => codec.encodeEvent(c.value) : () => codec.encodeCall(c.value as never);
      const bytes = encode();
      const decode = c.kind === 'event' ? () => codec.decodeEvent(bytes) : () => codec.decodeCall(bytes);
      const type = c.kind === 'event' ? eventType : callType;
      const pbBytes = type.encode(type.fromObject(c.value as Record<string, unknown>)).finish();
      if (encoding === 'protobuf' && !Buffer.from(pbBytes).equals(Buffer.from(bytes))) {
        throw new Error(`micro-codec: the baseline's bytes for the ${c.message} differ from ours`);
      }
      const plain = encoding === 'JSON' ? (JSON.parse(Buffer.from(bytes).toString('utf8')) as unknown) : undefined;
      for (const op of c.ops) {
        const ours = measureRate(op === 'encode' ? encode : decode, { budgetMs });
        let baseline: string;
        let base;
        if (encoding === 'protobuf') {
          baseline = 'protobufjs reflection';
          base = measureRate(
            op === 'encode'
              ? () => type.encode(type.fromObject(c.value as Record<string, unknown>)).finish()
              : () => type.toObject(type.decode(pbBytes), TO_OBJECT),
            { budgetMs },
          );
        } else {
          baseline = op === 'encode' ? 'JSON.stringify + Buffer.from' : 'JSON.parse of the same bytes';
          base = measureRate(op === 'encode' ? () => Buffer.from(JSON.stringify(plain)) : () => JSON.parse(Buffer.from(bytes).toString('utf8')), { budgetMs });
        }
        rows.push({
          message: c.message,
          encoding,
          operation: op,
          bytes: bytes.byteLength,
          oursOpsPerSec: ours.opsPerSec,
          baseline,
          baselineOpsPerSec: base.opsPerSec,
          ratio: ours.opsPerSec / base.opsPerSec,
        });
        ctx.log(`codec ${c.message} ${encoding} ${op}: ${fmtCount(ours.opsPerSec)} ops/s (${baseline} ${fmtCount(base.opsPerSec)})`);
      }
    }
  }
  const markdown = table(
    ['message', 'encoding', 'op', 'size', 'ours ops/s', 'baseline', 'baseline ops/s', 'ours / baseline'],
    rows.map((r) => [r.message, r.encoding, r.operation, `${r.bytes} B`, fmtCount(r.oursOpsPerSec), r.baseline, fmtCount(r.baselineOpsPerSec), fmtRatio(r.ratio)]),
  );
  return { data: { rows }, markdown };
}
