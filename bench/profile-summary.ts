#!/usr/bin/env node
// Summarises V8 CPU profiles (node --cpu-prof, or `npm run bench -- --profile`):
//   node dist/bench/profile-summary.js <file.cpuprofile>... [--top 25]
// Prints self time by function (file:line function) and by file, as % of the profile's
// samples, with (idle) and (garbage collector) shown separately, so a hot path can be named.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly children?: readonly number[];
}

interface Profile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
  readonly startTime: number;
  readonly endTime: number;
}

function shortUrl(url: string): string {
  if (url === '') return '(native)';
  const at = url.search(/\/(src|workers|bench|node_modules)\//);
  return at === -1 ? url.replace(/^file:\/\//, '') : url.slice(at + 1);
}

export function summarize(profile: Profile, top: number): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
  const byFunction = new Map<string, number>();
  const byFile = new Map<string, number>();
  let idle = 0;
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)!.callFrame;
    if (frame.functionName === '(idle)') {
      idle += us;
      continue;
    }
    const key = `${shortUrl(frame.url)}:${frame.lineNumber + 1} ${frame.functionName || '(anonymous)'}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + us);
    const file = frame.url === '' ? frame.functionName : shortUrl(frame.url);
    byFile.set(file, (byFile.get(file) ?? 0) + us);
  }
  const busy = total - idle;
  const pct = (us: number): string => `${((us / busy) * 100).toFixed(1).padStart(5)} %`;
  const lines: string[] = [];
  lines.push(`profile ${((profile.endTime - profile.startTime) / 1e6).toFixed(2)} s; busy ${(busy / 1e6).toFixed(2)} s (${((busy / total) * 100).toFixed(0)} % of samples); shares below are of busy time`);
  lines.push('self time by function:');
  for (const [key, us] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, top)) lines.push(`  ${pct(us)}  ${key}`);
  lines.push('self time by file:');
  for (const [key, us] of [...byFile].sort((a, b) => b[1] - a[1]).slice(0, top)) lines.push(`  ${pct(us)}  ${key}`);
  return lines.join('\n');
}

const { values, positionals } = parseArgs({ options: { top: { type: 'string' } }, allowPositionals: true });
for (const file of positionals) {
  process.stdout.write(`== ${file}\n${summarize(JSON.parse(readFileSync(file, 'utf8')) as Profile, Number(values.top ?? 25))}\n`);
}
