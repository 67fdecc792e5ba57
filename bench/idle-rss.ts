#!/usr/bin/env node
// Idle memory of the executor by thread count, for the sizing in docs/cluster.md: the real executor
// process (`dist/src/cli/main.js --threads N`) under a LocalAgent, subscribed, after one noop task
// per thread (so every worker has started and loaded the built-in jobs), then idle. RSS is read
// from /proc/<pid>/status (VmRSS: the whole process, worker threads included), median of 5 reads
// 200 ms apart. Usage: node dist/bench/idle-rss.js [threads...] (default 1 2 4 8).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { LocalAgent } from '../src/agent/index.js';

const MAIN = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? NaN);
  return kb / 1024;
}

async function measure(threads: number): Promise<number> {
  const agent = new LocalAgent({ frameworkInfo: { checkpoint: false } });
  await agent.start();
  try {
    const handle = await agent.launchExecutor({ command: process.execPath, args: [MAIN, '--threads', String(threads), '--log-level', 'error'] });
    await agent.nextEvent('subscribed');
    for (let i = 0; i < threads; i++) agent.launchTask({ task_id: `warm-${i}`, data: Buffer.from('{"job":"sleep","input":{"ms":300}}') });
    const ended = (): boolean => Array.from({ length: threads }, (_, i) => agent.task(`warm-${i}`)?.state).every((s) => s === 'TASK_FINISHED');
    for (let waited = 0; !ended(); waited += 20) {
      if (waited > 30_000) throw new Error(`the warm-up tasks did not finish (${threads} threads)`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const reads: number[] = [];
    for (let i = 0; i < 5; i++) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      reads.push(rssMb(handle.pid));
    }
    reads.sort((a, b) => a - b);
    return reads[2]!;
  } finally {
    await agent.stop();
  }
}

const counts = process.argv.slice(2).map(Number).filter((n) => Number.isInteger(n) && n > 0);
console.log(`idle RSS of the executor process (node ${process.version})`);
console.log('threads  RSS MB');
for (const threads of counts.length > 0 ? counts : [1, 2, 4, 8]) {
  console.log(`${String(threads).padStart(7)}  ${(await measure(threads)).toFixed(0).padStart(6)}`);
}
