// Erasing a variable from the process's INITIAL environment, the one the kernel copied at exec
// and shows in /proc/<pid>/environ. Deleting it from process.env (unsetenv) only drops libc's
// pointer: the bytes stay where the kernel put them, and any process of the same user (a job's
// thread reading /proc/self/environ, a child it spawns reading /proc/<ppid>/environ) can read
// them. /proc/<pid>/environ is read live from the process's memory between env_start and
// env_end (/proc/<pid>/stat fields 50 and 51, Linux 3.5+), so overwriting the entry there, through
// /proc/self/mem, takes it out for good. Linux only; elsewhere it reports itself unsupported.
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';

export type ScrubResult =
  | { readonly kind: 'scrubbed'; readonly entries: number }
  | { readonly kind: 'absent' }
  | { readonly kind: 'unsupported'; readonly reason: string };

/** Where the initial environment lies in this process's memory. */
function environmentArea(): { start: number; end: number } {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  // The command name (field 2) is in parentheses and may hold spaces: count after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).trim().split(' ');
  const start = Number(fields[50 - 3]);
  const end = Number(fields[51 - 3]);
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start <= 0 || end <= start) {
    throw new Error('/proc/self/stat has no usable env_start/env_end');
  }
  return { start, end };
}

/** Where each `name=` entry (not a `name=` inside another entry's value) starts and ends. */
function entriesOf(environ: Buffer, key: Buffer): Array<{ at: number; end: number }> {
  const entries: Array<{ at: number; end: number }> = [];
  for (let at = environ.indexOf(key); at !== -1; at = environ.indexOf(key, at + 1)) {
    if (at > 0 && environ[at - 1] !== 0) continue;
    const nul = environ.indexOf(0, at);
    entries.push({ at, end: nul === -1 ? environ.length : nul });
  }
  return entries;
}

/**
 * Overwrites with NUL bytes every `name=…` entry of the initial environment. Call it after the
 * variable was read and deleted from `process.env`. Never throws.
 */
export function scrubInitialEnvironment(name: string): ScrubResult {
  if (process.platform !== 'linux') return { kind: 'unsupported', reason: `not on Linux (${process.platform})` };
  try {
    const area = environmentArea();
    const environ = readFileSync('/proc/self/environ');
    const key = Buffer.from(`${name}=`, 'utf8');
    const entries = entriesOf(environ, key);
    if (entries.length === 0) return { kind: 'absent' };
    if (environ.length > area.end - area.start) throw new Error('/proc/self/environ is longer than its area');
    const fd = openSync('/proc/self/mem', 'r+');
    try {
      for (const { at, end } of entries) writeSync(fd, Buffer.alloc(end - at), 0, end - at, area.start + at);
    } finally {
      closeSync(fd);
    }
    if (entriesOf(readFileSync('/proc/self/environ'), key).length > 0) throw new Error('the entry is still there after the overwrite');
    return { kind: 'scrubbed', entries: entries.length };
  } catch (error) {
    return { kind: 'unsupported', reason: error instanceof Error ? error.message : String(error) };
  }
}
