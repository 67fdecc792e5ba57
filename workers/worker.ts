/**
 * The piscina worker entry (compiled to dist/workers/worker.js). It loads the registered job
 * modules ONCE, at module evaluation (top-level await), so piscina reports the worker ready
 * only after they are loaded; a module that fails to load is remembered and reported by the
 * describe handshake and by every run, instead of crashing the thread in a respawn loop.
 *
 * This file only computes: it never imports the driver, the agent or metrics.
 */
import { threadId, workerData } from 'node:worker_threads';
import { boundMessage } from '../src/protocol/utf8.js';
import { runChunk, type JobLookup } from './batch.js';
import { threadChannel, type RunLink } from './channel.js';
import { createTaskContext } from './context.js';
import { describeThrown } from './describe.js';
import * as builtinJobs from './jobs/index.js';
import type { ChunkResponse, DescribeResponse, RunRequest, RunResponse, WorkerRequest, WorkerResponse, WorkerStartup } from './protocol.js';
import { loadJobRegistry, type RegisteredJob } from './registry.js';
import { encodeJson } from './result.js';

function readStartup(data: unknown): WorkerStartup {
  const startup = (data ?? {}) as Partial<WorkerStartup>;
  return {
    builtinJobs: startup.builtinJobs !== false,
    jobModules: Array.isArray(startup.jobModules) ? startup.jobModules.filter((u): u is string => typeof u === 'string') : [],
  };
}

const startup = readStartup(workerData);
let registry: Map<string, RegisteredJob> | undefined;
let loadError: string | undefined;
try {
  registry = await loadJobRegistry(startup.jobModules, startup.builtinJobs ? builtinJobs : undefined);
} catch (error) {
  loadError = error instanceof Error ? error.message : String(error);
}

function describe(): DescribeResponse {
  if (registry === undefined) return { kind: 'described', ok: false, message: loadError ?? 'job modules not loaded' };
  return { kind: 'described', ok: true, jobs: [...registry.keys()], threadId };
}

/**
 * What a job threw, as the text of its TASK_FAILED. Bounded here already (utf8.ts) so that a
 * job throwing a 100 MB string does not have it cloned to the main thread; made without
 * trusting the value (describe.ts), so that no throw escapes: a run that rejected would be
 * taken for a crashed thread.
 */
function errorMessage(error: unknown): { message: string; errorName?: string } {
  const described = describeThrown(error);
  return { ...described, message: boundMessage(described.message) };
}

async function run(request: RunRequest, link: RunLink): Promise<RunResponse> {
  const { taskId, job: name, input, maxResultBytes, maxFrameworkMessageBytes } = request;
  const task = createTaskContext(taskId, link, maxResultBytes, maxFrameworkMessageBytes);
  try {
    // Killed while it was on its way to this thread: do not start it at all. Checked BEFORE
    // "started": once the main thread hears "started" the job is running, so a kill from then
    // on is one the job itself must honour (or be escalated). Checked after it, a kill landing
    // in between made a job that never ran look like one that stopped within its grace.
    if (task.aborted) return { kind: 'result', ok: false, failure: 'stopped', message: 'stopped before it started' };
    link.post({ type: 'started', runId: link.runId, threadId });
    if (registry === undefined) {
      return { kind: 'result', ok: false, failure: 'jobs-unavailable', message: loadError ?? 'job modules not loaded' };
    }
    const entry = registry.get(name);
    if (entry === undefined) {
      return { kind: 'result', ok: false, failure: 'unknown-job', message: `unknown job "${name}"` };
    }
    let value: unknown;
    try {
      value = await entry.job(input, task.ctx);
    } catch (error) {
      return { kind: 'result', ok: false, failure: task.aborted ? 'stopped' : 'threw', ...errorMessage(error) };
    }
    const encoded = encodeJson(value, maxResultBytes);
    if (!encoded.ok) return { kind: 'result', ok: false, failure: encoded.failure, message: encoded.message };
    return { kind: 'result', ok: true, json: encoded.json };
  } finally {
    task.close();
  }
}

const lookup: JobLookup = (name) => {
  if (registry === undefined) return { ok: false, failure: 'jobs-unavailable', message: loadError ?? 'job modules not loaded' };
  const entry = registry.get(name);
  return entry === undefined ? { ok: false, failure: 'unknown-job', message: `unknown job "${name}"` } : { ok: true, job: entry.job };
};

// Created at load, before any run: its announcement reaches the main thread first.
const channel = threadChannel();
const POSTED: WorkerResponse = Object.freeze({ kind: 'posted' });

/**
 * A run or chunk: its result goes out on the channel, after everything it posted, and piscina
 * is answered only then (the thread is free for the next).
 */
async function onChannel(runId: number, body: (link: RunLink) => Promise<RunResponse | ChunkResponse>): Promise<WorkerResponse> {
  const link = channel.open(runId);
  try {
    const response = await body(link);
    link.post({ type: 'result', runId, response });
  } finally {
    link.close();
  }
  return POSTED;
}

export default async function handle(request: WorkerRequest): Promise<WorkerResponse> {
  switch (request.kind) {
    case 'describe':
      return describe();
    case 'run':
      return onChannel(request.runId, (link) => run(request, link));
    case 'chunk':
      return onChannel(request.runId, (link) => runChunk(request, link, lookup));
  }
}
