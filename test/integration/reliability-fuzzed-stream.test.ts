// Fuzzed event streams fed to a live driver over real loopback HTTP (LocalAgent.sendGarbage):
// random bytes, mutated records of the fixture stream, and well-framed events with required
// fields missing. The driver must treat what it cannot decode as a disconnection (and
// resubscribe), ignore what it does not know, and never crash: an uncaught exception or an
// unhandled rejection anywhere in the process fails the test.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { LocalAgent } from '../../src/agent/index.js';
import { Status } from '../../src/executor.js';
import { protobufCodec, jsonCodec, type ContentType, type Codec } from '../../src/protocol/codec.js';
import { encodeRecord, RecordIODecoder } from '../../src/protocol/recordio.js';
import type { Event } from '../../src/proto/types.js';
import { applyMutations, fixtureCorpus } from '../soak/fuzz-properties.js';
import { driverRigs, type DriverRig } from '../helpers/driver-rig.js';
import { crashDetector } from '../helpers/crash-detector.js';
import { waitFor } from '../helpers/wait.js';

const CASES = Number(process.env.FUZZ_STREAM_CASES ?? 150);
const SEED = 4242;

const crashes = crashDetector();

interface Rig extends DriverRig {
  received: string[];
}

const rigs = driverRigs();

/** A driver on `agent` (the test's, already started), subscribed. */
async function rig(agent: LocalAgent, contentType: ContentType): Promise<Rig> {
  const r = await rigs.rig({ agent, driverOptions: { contentType, subscribeRetryIntervalMs: 10, updateRetryIntervalMs: 10 }, executorOptions: { ackWaitMs: 50 } });
  const received: string[] = [];
  r.driver.on('eventReceived', ({ type }) => received.push(type));
  await r.driver.start();
  await waitFor(() => agent.subscribed, { what: 'subscribed' });
  return { ...r, received };
}

/** Events whose decoded form is well framed but missing fields an executor relies on. */
function malformedEvents(): Event[] {
  return [
    { type: 'LAUNCH', launch: {} as never },
    { type: 'LAUNCH', launch: { task: {} as never } },
    { type: 'LAUNCH', launch: { task: { name: 'x', task_id: {} as never, agent_id: { value: 'a' } } } },
    { type: 'LAUNCH_GROUP', launch_group: { task_group: { tasks: [{} as never] } } },
    { type: 'LAUNCH_GROUP', launch_group: {} as never },
    { type: 'KILL', kill: {} as never },
    { type: 'KILL', kill: { task_id: {} as never } },
    { type: 'ACKNOWLEDGED', acknowledged: {} as never },
    { type: 'ACKNOWLEDGED', acknowledged: { task_id: { value: 'nope' } } as never },
    { type: 'ACKNOWLEDGED', acknowledged: { uuid: Buffer.alloc(16) } as never },
    { type: 'ACKNOWLEDGED', acknowledged: { task_id: { value: 'nope' }, uuid: Buffer.alloc(3) } },
    { type: 'MESSAGE', message: {} as never },
    { type: 'SUBSCRIBED', subscribed: {} as never },
    { type: 'SUBSCRIBED' },
    { type: 99 as never },
    {},
  ];
}

function framed(codec: Codec, event: Event): Buffer | undefined {
  try {
    return encodeRecord(codec.encodeEvent(event));
  } catch {
    return undefined; // not expressible in this encoding (an unknown enum number in JSON)
  }
}

function framedMalformed(codec: Codec): Array<{ event: Event; bytes: Buffer }> {
  return malformedEvents().flatMap((event) => {
    const bytes = framed(codec, event);
    return bytes === undefined ? [] : [{ event, bytes }];
  });
}

/** One fuzzed write: random bytes, a mutated fixture record stream, or a framed malformed event. */
function garbageArb(codec: Codec): fc.Arbitrary<Buffer> {
  const c = fixtureCorpus();
  const stream = codec === jsonCodec ? c.jsonStream : c.protobufStream;
  const events = codec === jsonCodec ? c.jsonEvents.map((t) => Buffer.from(t)) : c.protobufEvents.map((b) => Buffer.from(b));
  const malformed = framedMalformed(codec).map((m) => m.bytes);
  const mutation = fc.record({
    kind: fc.constantFrom('flip' as const, 'set' as const, 'truncate' as const, 'interesting' as const),
    at: fc.nat(),
    bit: fc.integer({ min: 0, max: 7 }),
    value: fc.integer({ min: 0, max: 255 }),
  });
  return fc.oneof(
    fc.uint8Array({ minLength: 1, maxLength: 64 }).map((b) => Buffer.from(b)),
    fc.tuple(fc.nat({ max: events.length - 1 }), fc.array(mutation, { minLength: 1, maxLength: 4 })).map(([i, ms]) => {
      // A mutated event payload in a correct frame: the frame survives, the payload may not.
      const body = applyMutations(events[i]!, ms as never);
      return body.length === 0 ? Buffer.from('\n') : encodeRecord(body);
    }),
    fc.array(mutation, { minLength: 1, maxLength: 3 }).map((ms) => applyMutations(stream.subarray(0, 400), ms as never)),
    fc.constantFrom(...malformed),
  );
}

for (const contentType of ['application/x-protobuf', 'application/json'] as const) {
  const short = contentType === 'application/json' ? 'json' : 'protobuf';
  const codec = contentType === 'application/json' ? jsonCodec : protobufCodec;

  describe(`a live driver fed fuzzed event streams (${short})`, () => {
    it('every malformed-but-framed event is ignored or is a disconnection; the driver keeps working', async () => {
      const agent = new LocalAgent({ subscriptionBackoffMaxMs: 20, contentTypes: [contentType], frameworkInfo: { checkpoint: true } });
      await agent.start();
      try {
        const r = await rig(agent, contentType);
        for (const { event, bytes } of framedMalformed(codec)) {
          const subscribes = agent.counters.subscribes;
          agent.sendGarbage(bytes);
          // A marker message proves the stream is still read in order after the event.
          const marker = Buffer.from(`marker-${subscribes}-${String(event.type)}`);
          agent.sendFrameworkMessage(marker);
          await waitFor(
            () =>
              r.executor.records.some((x) => x.callback === 'frameworkMessage' && Buffer.from(x.data).equals(marker)) ||
              (agent.counters.subscribes > subscribes && agent.subscribed),
            { what: `the driver to go on after ${JSON.stringify(event)}` },
          );
          assert.equal(r.driver.status, Status.DRIVER_RUNNING, JSON.stringify(event));
        }
        // Still fully working: a task runs and its updates are acknowledged.
        agent.launchTask({ task_id: 'after-malformed', data: Buffer.from('finish') });
        await waitFor(() => agent.task('after-malformed')?.state === 'TASK_FINISHED', { what: 'the task to finish' });
        await waitFor(() => r.driver.unacknowledgedUpdates === 0, { what: 'acknowledgements' });
      } finally {
        await agent.stop();
      }
      assert.deepEqual(crashes, []);
    });

    it(`${CASES} seeded fuzzed writes: no crash, no unhandled rejection; resubscribes after each disconnection`, async () => {
      const agent = new LocalAgent({ subscriptionBackoffMaxMs: 20, contentTypes: [contentType], frameworkInfo: { checkpoint: true } });
      await agent.start();
      let disconnections = 0;
      let ignored = 0;
      let restarts = 0;
      try {
        let r = await rig(agent, contentType);
        const samples = fc.sample(garbageArb(codec), { numRuns: CASES, seed: SEED });
        for (const [i, garbage] of samples.entries()) {
          if (r.driver.status !== Status.DRIVER_RUNNING) {
            // A fuzzed ERROR or SHUTDOWN event ended this driver, as it should: start another run.
            assert.ok(r.received.includes('ERROR') || r.received.includes('SHUTDOWN'), `driver ended without ERROR/SHUTDOWN: ${r.received.join(',')}`);
            await r.driver.abort();
            await agent.stop();
            restarts++;
            await agent.start().catch(() => {});
            r = await rig(agent, contentType);
          }
          const subscribes = agent.counters.subscribes;
          const marker = Buffer.from(`m${i}`);
          // What the driver's decoder will be left with: if the garbage opened a record longer
          // than what follows (the marker included), the driver rightly waits for the rest.
          const reference = new RecordIODecoder();
          let incomplete = false;
          try {
            reference.push(Buffer.concat([garbage, framed(codec, { type: 'MESSAGE', message: { data: marker } })!]));
            incomplete = reference.bufferedBytes > 0;
          } catch {
            // A framing error: the driver disconnects.
          }
          if (!agent.sendGarbage(garbage)) continue;
          agent.sendFrameworkMessage(marker);
          if (incomplete) agent.dropStream('end'); // the end of the stream must be a disconnection
          const outcome = await waitFor(
            () => {
              if (r.executor.records.some((x) => x.callback === 'frameworkMessage' && Buffer.from(x.data).equals(marker))) return 'ignored';
              if (agent.counters.subscribes > subscribes && agent.subscribed) return 'resubscribed';
              if (r.driver.status !== Status.DRIVER_RUNNING) return 'ended';
              return undefined;
            },
            // Generous: a resubscribe waits a random backoff, and CI machines are shared.
            { what: `case ${i} (${garbage.subarray(0, 40).toString('hex')}) to settle`, timeoutMs: 15_000 },
          );
          if (outcome === 'resubscribed') disconnections++;
          else if (outcome === 'ignored') ignored++;
          assert.deepEqual(crashes, [], `case ${i}`);
        }
        if (r.driver.status === Status.DRIVER_RUNNING) {
          await waitFor(() => agent.subscribed, { what: 'subscribed at the end' });
          agent.launchTask({ task_id: 'after-fuzz', data: Buffer.from('finish') });
          await waitFor(() => agent.task('after-fuzz')?.state === 'TASK_FINISHED', { what: 'a task after the fuzzing' });
        }
      } finally {
        await agent.stop();
      }
      assert.deepEqual(crashes, []);
      assert.ok(disconnections > 0 && ignored > 0, `both outcomes seen: ${disconnections} disconnections, ${ignored} ignored, ${restarts} new runs`);
    });
  });
}
