// The containerizer's part of the agent, for one executor: launch its process, destroy it
// (SIGKILL to its process group, as destroying a container kills everything in it), kill it when
// the shutdown grace period runs out, and report its exit once.
import { InvalidOptionError, MesosExecutorError } from '../errors.js';
import { ExecutorProcess, type ExecutorExit, type LaunchExecutorOptions } from './executor-process.js';

export class Containerizer {
  /** The executor process launched last. */
  #current: ExecutorProcess | undefined;
  /** Every process still alive (a previous run may outlive its successor's launch by a moment). */
  readonly #processes = new Set<ExecutorProcess>();
  #shutdownTimer: NodeJS.Timeout | undefined;
  /** A process the agent no longer knows (a restart without checkpointing): its exit is not reported. */
  #orphan: ExecutorProcess | undefined;
  readonly #onExit: (exit: ExecutorExit) => void;

  /** `onExit`: the current executor's process exited (Slave::executorTerminated). */
  constructor(onExit: (exit: ExecutorExit) => void) {
    this.#onExit = onExit;
  }

  get current(): ExecutorProcess | undefined {
    return this.#current;
  }

  /** An executor process is alive. */
  get running(): boolean {
    return this.#current?.alive === true;
  }

  /** Throws unless `options` can be launched now (checked before the agent starts a new executor run). */
  checkLaunch(options: LaunchExecutorOptions): void {
    if (options === null || typeof options !== 'object' || typeof options.command !== 'string' || options.command === '') {
      throw new InvalidOptionError('command', 'launchExecutor: options.command: expected a non-empty string');
    }
    if (this.#current?.alive === true && this.#current !== this.#orphan) {
      throw new MesosExecutorError('MPE_EXECUTOR_PROCESS', `an executor is already running (pid ${this.#current.pid})`);
    }
  }

  async launch(options: LaunchExecutorOptions, env: Record<string, string>, sandbox: string): Promise<ExecutorProcess> {
    this.checkLaunch(options);
    const proc: ExecutorProcess = await ExecutorProcess.spawn(options, env, sandbox, (exit) => this.#exited(proc, exit));
    this.#current = proc;
    this.#processes.add(proc);
    return proc;
  }

  /** Kills the current executor's process group now. False when none is alive. */
  destroy(): boolean {
    const proc = this.#current;
    if (proc === undefined || !proc.alive) return false;
    proc.kill('SIGKILL');
    return true;
  }

  /**
   * The agent recovered without the executor (no checkpoint): its container is an orphan, which
   * containerizer recovery destroys ("Cleaning up orphan container"). The agent never hears of
   * its exit.
   */
  destroyOrphan(): void {
    const proc = this.#current;
    if (proc === undefined || !proc.alive) return;
    this.#orphan = proc;
    this.#clearShutdownTimer();
    proc.kill('SIGKILL');
  }

  /** SHUTDOWN was sent: destroy the container after `graceMs` unless it exits first. */
  destroyAfter(graceMs: number): Promise<ExecutorExit> | undefined {
    const proc = this.#current;
    if (proc === undefined) return undefined;
    if (!proc.alive) return proc.exited;
    this.#clearShutdownTimer();
    this.#shutdownTimer = setTimeout(() => {
      this.#shutdownTimer = undefined;
      if (proc.alive) proc.kill('SIGKILL');
    }, graceMs);
    this.#shutdownTimer.unref();
    return proc.exited;
  }

  /** Kills every launched process and waits for them (LocalAgent.stop). */
  async destroyAll(): Promise<void> {
    this.#clearShutdownTimer();
    const exits: Promise<ExecutorExit>[] = [];
    for (const proc of this.#processes) {
      proc.kill('SIGKILL');
      exits.push(proc.exited);
    }
    await Promise.all(exits);
  }

  #exited(proc: ExecutorProcess, exit: ExecutorExit): void {
    this.#processes.delete(proc);
    if (proc !== this.#current || proc === this.#orphan) return;
    this.#clearShutdownTimer();
    this.#onExit(exit);
  }

  #clearShutdownTimer(): void {
    if (this.#shutdownTimer !== undefined) clearTimeout(this.#shutdownTimer);
    this.#shutdownTimer = undefined;
  }
}
