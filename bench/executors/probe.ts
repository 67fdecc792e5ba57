// A measurement probe inside an executor process under test. The bench (playing the
// framework through the LocalAgent) sends a MESSAGE event whose data is
// `{"bench": "<command>", "id": n}`; the probe answers with a framework message (a MESSAGE
// call) `{"id": n, ...}`. Commands:
//   ping                    → {}                               (a round trip through the executor)
//   report                  → cpu, memory, plus the executor's own figures (outbox size, tasks)
//   gc                      → global.gc() (node --expose-gc), then what report gives
//   eld                     → the event-loop delay histogram since the last reset (or start)
// With BENCH_ELD=1 the event-loop delay monitor runs from start (resolution 1 ms); the
// executor calls reset() when it registers, so the window starts at SUBSCRIBED.
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

const RESOLUTION_MS = 1;

export interface ProbeRequest {
  readonly bench: string;
  readonly id: number;
}

export function parseProbeRequest(data: Uint8Array): ProbeRequest | undefined {
  if (data.byteLength === 0 || data[0] !== 0x7b) return undefined;
  try {
    const value = JSON.parse(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8')) as Partial<ProbeRequest>;
    return typeof value.bench === 'string' && typeof value.id === 'number' ? (value as ProbeRequest) : undefined;
  } catch {
    return undefined;
  }
}

export class Probe {
  readonly #extra: () => Record<string, unknown>;
  #eld: IntervalHistogram | undefined;

  constructor(extra: () => Record<string, unknown>) {
    this.#extra = extra;
    if (process.env['BENCH_ELD'] === '1') {
      this.#eld = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
      this.#eld.enable();
    }
  }

  /** Restarts the event-loop delay window. */
  reset(): void {
    this.#eld?.reset();
  }

  /** Handles a probe request; false when `data` is not one. */
  handle(data: Uint8Array, reply: (bytes: Uint8Array) => void): boolean {
    const request = parseProbeRequest(data);
    if (request === undefined) return false;
    const answer: Record<string, unknown> = { id: request.id };
    switch (request.bench) {
      case 'ping':
        break;
      case 'gc':
        (globalThis as { gc?: () => void }).gc?.();
        Object.assign(answer, this.#report());
        break;
      case 'report':
        Object.assign(answer, this.#report());
        break;
      case 'eld': {
        const h = this.#eld;
        if (h === undefined) {
          answer['error'] = 'BENCH_ELD=1 not set';
          break;
        }
        // A blocked loop is recorded by the monitor's NEXT timer tick: answer after it.
        setTimeout(() => reply(Buffer.from(JSON.stringify({ ...answer, eld: this.#eldFigures(h) }))), 3 * RESOLUTION_MS);
        return true;
      }
      default:
        answer['error'] = `unknown probe command ${JSON.stringify(request.bench)}`;
    }
    reply(Buffer.from(JSON.stringify(answer)));
    return true;
  }

  #eldFigures(h: IntervalHistogram): Record<string, number> {
    // The histogram holds whole timer intervals: the lag is what exceeds the resolution.
    const lag = (ns: number): number => Math.max(0, ns / 1e6 - RESOLUTION_MS);
    return {
      resolutionMs: RESOLUTION_MS,
      samples: h.count,
      p50: lag(h.percentile(50)),
      p95: lag(h.percentile(95)),
      p99: lag(h.percentile(99)),
      max: lag(h.max),
      mean: lag(h.mean),
    };
  }

  #report(): Record<string, unknown> {
    return { cpu: process.cpuUsage(), memory: process.memoryUsage(), ...this.#extra() };
  }
}
