/**
 * The worker's side of its one persistent channel to the main thread (workers/protocol.ts).
 *
 * A thread runs one run at a time; everything a run says (started, progress, framework
 * messages, spawned/childExited, and last its result) goes out on this one port, so the main
 * thread receives it in the order it was posted. The main thread's aborts come back on it,
 * addressed by run id:
 * - for the run in progress: its ctx.signal aborts;
 * - for a run not begun yet: remembered, so that the run, when it arrives, never starts (the
 *   main thread cannot know which thread a queued run will land on, so it sends the abort of
 *   a run not yet "started" to every thread, and the threads that never get it drop it);
 * - for a run that has ended: ignored.
 * Runs reach a thread in increasing id order (piscina hands them out FIFO, and ids increase),
 * so when run N begins, every abort remembered for an id below N is for another thread: dropped.
 */
import { MessageChannel, parentPort, receiveMessageOnPort, threadId, type MessagePort } from 'node:worker_threads';
import { CHANNEL_ANNOUNCEMENT, type ChannelAnnouncement, type MainToWorker, type WorkerToMain } from './protocol.js';

/** One run's use of the channel. */
export interface RunLink {
  readonly runId: number;
  /** Posts a message of this run (nothing once the link is closed). */
  post(message: WorkerToMain): void;
  /** Takes pending messages off the channel now (a job in a synchronous loop never yields). */
  poll(): void;
  /** Why the main thread asked this run to stop, once it has. */
  readonly abortReason: string | undefined;
  /** Called once, when the abort arrives (not if it had arrived before `open`). */
  onAbort: ((reason: string) => void) | undefined;
  /** Posts nothing more; later aborts for this run are ignored. */
  close(): void;
}

export class WorkerChannel {
  readonly #port: MessagePort;
  #current: OpenLink | undefined;
  /** The highest run id opened: aborts for ids up to it that are not current are for ended runs. */
  #lastRunId = 0;
  /** Aborts of runs not yet begun here (most are for other threads). */
  readonly #early = new Map<number, string>();

  constructor(port: MessagePort) {
    this.#port = port;
    port.on('message', (message: MainToWorker) => this.#handle(message));
    // The channel never keeps the thread alive: piscina decides when it ends.
    port.unref();
  }

  /** Begins run `runId` on this thread: the one run the channel's aborts now reach. */
  open(runId: number): RunLink {
    this.poll();
    for (const id of this.#early.keys()) if (id < runId) this.#early.delete(id);
    const link = new OpenLink(this, runId, this.#early.get(runId));
    this.#early.delete(runId);
    this.#lastRunId = Math.max(this.#lastRunId, runId);
    this.#current = link;
    return link;
  }

  poll(): void {
    for (let entry = receiveMessageOnPort(this.#port); entry !== undefined; entry = receiveMessageOnPort(this.#port)) {
      this.#handle(entry.message as MainToWorker);
    }
  }

  /** Internal to links: posts on the port. */
  send(message: WorkerToMain): void {
    this.#port.postMessage(message);
  }

  /** Internal to links: the run ended. */
  closed(link: OpenLink): void {
    if (this.#current === link) this.#current = undefined;
  }

  #handle(message: MainToWorker): void {
    if (message.type !== 'abort') return;
    const current = this.#current;
    if (current !== undefined && current.runId === message.runId) current.abort(message.reason);
    else if (message.runId > this.#lastRunId) this.#early.set(message.runId, message.reason);
    // Else: a run that has ended (here or elsewhere): nothing to stop.
  }
}

class OpenLink implements RunLink {
  readonly runId: number;
  readonly #channel: WorkerChannel;
  #abortReason: string | undefined;
  #closed = false;
  onAbort: ((reason: string) => void) | undefined;

  constructor(channel: WorkerChannel, runId: number, abortReason: string | undefined) {
    this.#channel = channel;
    this.runId = runId;
    this.#abortReason = abortReason;
  }

  get abortReason(): string | undefined {
    return this.#abortReason;
  }

  post(message: WorkerToMain): void {
    if (!this.#closed) this.#channel.send(message);
  }

  poll(): void {
    if (!this.#closed && this.#abortReason === undefined) this.#channel.poll();
  }

  abort(reason: string): void {
    if (this.#closed || this.#abortReason !== undefined) return;
    this.#abortReason = reason;
    this.onAbort?.(reason);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.onAbort = undefined;
    this.#channel.closed(this);
  }
}

let own: WorkerChannel | undefined;

/**
 * This thread's channel, created (and its other end announced to the main thread on piscina's
 * port, which piscina hands to the pool's 'message' listeners) on first use.
 */
export function threadChannel(): WorkerChannel {
  if (own !== undefined) return own;
  const { port1, port2 } = new MessageChannel();
  own = new WorkerChannel(port1);
  const announcement: ChannelAnnouncement = { kind: CHANNEL_ANNOUNCEMENT, threadId, port: port2 };
  parentPort?.postMessage(announcement, [port2]);
  return own;
}
