// An agent restart as the executor sees one (the agent process dies and comes back): the steps
// of `Slave::recover` in order, each a phase with its own answers (see AgentPhase). The facade
// supplies the actions; this file holds the order and the waits.
import * as is from '../validate.js';
import type { AgentPhase } from './events.js';

export interface RestartOptions {
  /** Time with no listener (connections refused). Default 0. */
  downMs?: number;
  /** Then time answering 503 to every request (containerizer recovery). Default 0. */
  recoverMs?: number;
  /**
   * With checkpointing, then the re-registration window (RECOVERING): SUBSCRIBE and HEARTBEAT
   * served, other calls 503; an executor that has not subscribed again by its end is killed.
   * Default `executorReregistrationTimeoutMs` (2 s). Ignored without checkpointing (no window).
   */
  reregisterMs?: number;
}

/** What a restart does to the agent, step by step. */
export interface RestartActions {
  readonly checkpoint: boolean;
  /** `--executor_reregistration_timeout`, the window when `reregisterMs` is not given. */
  readonly reregistrationTimeoutMs: number;
  setPhase(phase: AgentPhase): void;
  /** stop() ran: the restart ends where it is. */
  stopped(): boolean;
  /** Waits; stop() cuts it short. */
  sleep(ms: number): Promise<void>;
  /** The agent dies: its state in memory and its connections are gone. */
  crash(): Promise<void>;
  /** Listens again on the same port. */
  listen(): Promise<void>;
  closeListeners(): Promise<void>;
  /** Slave::reregisterExecutorTimeout. */
  windowEnded(windowMs: number): void;
  /** Containerizer recovery destroys the containers nothing was recovered for. */
  destroyOrphans(): void;
  /** The agent is registered with the master again (reconciliation of what it forgot). */
  reregistered(): void;
}

export async function runRestart(actions: RestartActions, options: RestartOptions): Promise<void> {
  const downMs = is.optional(options.downMs, 'downMs', is.milliseconds()) ?? 0;
  const recoverMs = is.optional(options.recoverMs, 'recoverMs', is.milliseconds()) ?? 0;
  const windowMs = is.optional(options.reregisterMs, 'reregisterMs', is.milliseconds()) ?? actions.reregistrationTimeoutMs;
  actions.setPhase('down');
  await actions.crash();
  await actions.sleep(downMs);
  if (actions.stopped()) return;
  await actions.listen();
  if (actions.stopped()) {
    // stop() ran while the listener was being reopened.
    await actions.closeListeners();
    return;
  }
  actions.setPhase('containerizer-recovery');
  await actions.sleep(recoverMs);
  if (actions.stopped()) return;
  if (actions.checkpoint) {
    // Only a recovered framework gives a window (`!frameworks.empty()` in Slave::_recover),
    // and it lasts its whole length, even once every executor is back (MESOS-7539).
    actions.setPhase('recovering');
    await actions.sleep(windowMs);
    if (actions.stopped()) return;
    actions.windowEnded(windowMs);
  } else {
    actions.destroyOrphans();
  }
  actions.setPhase('running');
  actions.reregistered();
}

