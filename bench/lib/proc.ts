// CPU time and memory of a process (or of one of its threads) read from /proc, so that the
// bench can measure another process (the executor) without any hook in it. Linux only.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

let clockTicks: number | undefined;

/** `getconf CLK_TCK` (normally 100): the unit of utime/stime in /proc/<pid>/stat. */
export function clockTicksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

export interface ProcCpu {
  /** utime + stime of the process (all threads), ms. */
  readonly cpuMs: number;
  /** cutime + cstime: CPU of children it has waited for, ms. */
  readonly childrenCpuMs: number;
}

/** CPU of a process (`tid` undefined) or of one thread (`/proc/<pid>/task/<tid>/stat`). */
export function readCpu(pid: number, tid?: number): ProcCpu {
  const path = tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`;
  const text = readFileSync(path, 'utf8');
  // The command name may hold spaces and parentheses: fields start after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state): utime is field 14 → index 11.
  const tick = 1000 / clockTicksPerSecond();
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  const cutime = Number(fields[13]);
  const cstime = Number(fields[14]);
  return { cpuMs: (utime + stime) * tick, childrenCpuMs: (cutime + cstime) * tick };
}

/** Resident set size in bytes (VmRSS of /proc/<pid>/status). */
export function readRss(pid: number): number {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+) kB/m.exec(text);
  return match === null ? Number.NaN : Number(match[1]) * 1024;
}

export interface SystemCpu {
  /** Busy CPU time of the whole machine (all cores), ms. */
  readonly busyMs: number;
  /** Steal time (a hypervisor gave our vCPU to someone else), ms. */
  readonly stealMs: number;
}

/** Machine-wide CPU time from the first line of /proc/stat. */
export function readSystemCpu(): SystemCpu {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0, _idle = 0, _iowait = 0, irq = 0, softirq = 0, steal = 0] = v;
  const tick = 1000 / clockTicksPerSecond();
  return { busyMs: (user + nice + system + irq + softirq + steal) * tick, stealMs: steal * tick };
}

/** CPU of this process (all threads), ms, from process.cpuUsage (µs resolution). */
export function selfCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}
