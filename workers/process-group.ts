// Signalling the process group a ctx.spawn child leads (both the worker and the main thread do:
// the worker on abort and at the task's end, the main thread before the terminal update, since a
// terminated thread cannot).

/** Signals a process group; one already gone is not an error. */
export function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group has no process left.
  }
}
