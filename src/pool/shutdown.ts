/**
 * The pool's SHUTDOWN, as one sequence within the agent's shutdown grace period (which the
 * driver owns: `ExecutorDriver.shutdownGracePeriodMs`, read here and nowhere else in the pool):
 * kill every task, wait for their ends, wait (bounded) for the acknowledgements of their
 * terminal updates, destroy the pool, stop the driver.
 */
import type { Clock } from '../clock.js';
import type { ExecutorDriver } from '../executor.js';
import type { Logger } from '../log.js';

/** Least time given to the acknowledgement wait on shutdown, even when the grace period is spent. */
const MIN_ACK_WAIT_MS = 100;
/** Of the shutdown grace period, kept for destroying the pool and stopping the driver. */
const SHUTDOWN_TAIL_MS = 250;

export interface ShutdownSettings {
  readonly clock: Clock;
  readonly logger: Logger;
  /** Kept back from the tasks' kill grace for the terminal updates and their acknowledgements. */
  readonly marginMs: number;
  /** How long a terminated thread gets to exit (comes out of the grace too). */
  readonly terminateWaitMs: number;
}

/** What the sequence does to the tasks (the scheduler's side). */
export interface ShutdownTasks {
  /** Refuses launches from now on and kills every live task with this grace; returns how many there were. */
  killAll(killGraceMs: number): number;
  /** Resolves true when no task is live, false after `timeoutMs`. */
  whenIdle(timeoutMs: number): Promise<boolean>;
  /** Reports every task still live as ended (the safety net, never reached when escalation works). */
  endRemaining(): void;
  /** Terminates every worker thread. */
  destroyPool(): Promise<void>;
}

/** The kill grace each task gets on shutdown, given the agent's grace period. */
export function shutdownKillGraceMs(gracePeriodMs: number, marginMs: number, terminateWaitMs: number): number {
  // A task that ignores its kill is escalated at the grace, then its thread gets up to
  // terminateWaitMs to exit before TASK_KILLED is sent: both come out of the grace period, so
  // the margin is left for the update and its acknowledgement.
  return Math.max(0, gracePeriodMs - marginMs - terminateWaitMs);
}

export interface ShutdownCompleted {
  /** Every status update was acknowledged before the driver stopped. */
  readonly acknowledged: boolean;
  readonly durationMs: number;
}

/** Runs the sequence; resolves once the driver is stopped. */
export async function runShutdown(settings: ShutdownSettings, tasks: ShutdownTasks, driver: ExecutorDriver): Promise<ShutdownCompleted> {
  const { clock, logger, terminateWaitMs } = settings;
  const startedAt = clock.now();
  const gracePeriodMs = driver.shutdownGracePeriodMs;
  const killGraceMs = shutdownKillGraceMs(gracePeriodMs, settings.marginMs, terminateWaitMs);
  logger.info({ tasks: tasks.killAll(killGraceMs), killGraceMs, gracePeriodMs }, 'shutting down');

  // Escalation guarantees an end within the grace plus the exit wait; this bound is a safety net.
  const ended = await tasks.whenIdle(killGraceMs + terminateWaitMs + 1_000);
  if (!ended) tasks.endRemaining();

  const ackWaitMs = Math.max(MIN_ACK_WAIT_MS, startedAt + gracePeriodMs - SHUTDOWN_TAIL_MS - clock.now());
  let acknowledged = false;
  try {
    acknowledged = await driver.awaitAcknowledgements(ackWaitMs);
  } catch (error) {
    logger.error({ err: error }, 'waiting for acknowledgements failed');
  }
  if (!acknowledged) logger.warn({ ackWaitMs }, 'not every status update was acknowledged in time');
  await tasks.destroyPool();
  try {
    await driver.stop();
  } catch (error) {
    logger.error({ err: error }, 'stopping the driver failed');
  }
  const durationMs = clock.now() - startedAt;
  logger.info({ acknowledged, durationMs }, 'shutdown complete');
  return { acknowledged, durationMs };
}

/** Promises resolved true by {@link wake}, or false when their timeout passes first. */
export class Waiters {
  readonly #clock: Clock;
  #waiting: Array<() => void> = [];

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  wait(timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = this.#clock.setTimeout(() => resolve(false), timeoutMs);
      this.#waiting.push(() => {
        this.#clock.clearTimeout(timer);
        resolve(true);
      });
    });
  }

  wake(): void {
    const waiting = this.#waiting;
    this.#waiting = [];
    for (const wake of waiting) wake();
  }
}
