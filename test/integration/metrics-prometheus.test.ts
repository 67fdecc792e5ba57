// A REAL Prometheus server scrapes the executor while `mesos-pool-executor local` runs a
// workload, and PromQL returns the exact number of TASK_FINISHED updates. Prometheus runs from a
// temporary config (scrape interval 1 s) and data dir on a free loopback port, and is stopped by
// PID. Nothing sleeps for a fixed time: every wait polls an HTTP API or a process, with a timeout.
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { freePort, missing, query, startPrometheus, type PrometheusServer } from '../helpers/prometheus.js';
import { waitFor, withTimeout } from '../helpers/wait.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
// Long enough (60 × 100 ms on 2 threads ≈ 3 s) that scrapes land while the workload runs.
const TASKS = 60;
const JOB = 'sleep';

describe('metrics scraped by a real Prometheus', () => {
  it(
    `counts exactly ${TASKS} TASK_FINISHED updates of a local run`,
    { skip: missing('prometheus'), timeout: 180_000 },
    async () => {
      // The port is picked here because Prometheus' config needs the target before the executor
      // exists; `local` itself uses a port the executor picks (--metrics-port 0).
      const metricsPort = await freePort();
      let prometheus: PrometheusServer | undefined;
      let local: ChildProcessByStdio<null, Readable, Readable> | undefined;
      let localDone = false;
      let exited: Promise<number | null> = Promise.resolve(null);
      let stdout = '';
      let stderr = '';
      try {
        prometheus = await startPrometheus({ targets: [`127.0.0.1:${metricsPort}`], job: 'mesos-executor', scrapeIntervalSeconds: 1 });
        // Its first scrape comes a few seconds after start: wait for it (the target is down yet,
        // up == 0), so that scrapes every second cover the whole workload.
        const started = prometheus;
        await waitFor(async () => (await query(started.url, 'up{job="mesos-executor"}')).length === 1, {
          timeoutMs: 60_000,
          intervalMs: 250,
          what: `Prometheus' first scrape of the target\n${started.log()}`,
        });
        const child = spawn(
          process.execPath,
          [MAIN, 'local', '-n', String(TASKS), '--job', JOB, '--input', '{"ms":100}', '--threads', '2', '--metrics-port', String(metricsPort), '--keep-metrics', '--no-progress'],
          { stdio: ['ignore', 'pipe', 'pipe'] },
        );
        local = child;
        child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
        child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
        exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
        void exited.then(() => (localDone = true));
        const p = prometheus;
        const finished = `mesos_executor_status_updates_total{job="mesos-executor",state="TASK_FINISHED"}`;

        await waitFor(() => stdout.includes('workload done') || localDone, { timeoutMs: 60_000, intervalMs: 50, what: `local to finish its workload\n${stdout}\n${stderr}` });
        assert.ok(!localDone, `local exited early:\n${stdout}\n${stderr}`);
        assert.match(stdout, new RegExp(`metrics +http://127\\.0\\.0\\.1:${metricsPort}/metrics`), 'local prints the endpoint');
        const doneAt = Date.now() / 1000;

        // The first scrape takes a few seconds (target discovery, then a scrape offset within the
        // interval): poll until a sample scraped AFTER the workload ended is in the TSDB.
        await waitFor(
          async () => {
            const [sample] = await query(p.url, `timestamp(${finished})`);
            return sample !== undefined && Number(sample.value[1]) > doneAt;
          },
          { timeoutMs: 60_000, intervalMs: 250, what: `a scrape after the workload ended\n${p.log()}` },
        );
        const result = await query(p.url, finished);
        assert.equal(result.length, 1, JSON.stringify(result));
        assert.equal(result[0]!.value[1], String(TASKS), 'exactly one TASK_FINISHED update per task');

        // The same run seen through other families: nothing double-counted, nothing missing.
        const scalar = async (promql: string): Promise<string | undefined> => {
          const samples = await query(p.url, promql);
          if (samples.length !== 1) {
            const names = await query(p.url, 'count by (__name__) ({job="mesos-executor"})');
            assert.fail(`${promql}: ${JSON.stringify(samples)}; series now: ${JSON.stringify(names.map((s) => s.metric.__name__))}`);
          }
          return samples[0]!.value[1];
        };
        assert.equal(await scalar('mesos_executor_tasks_launched_total'), String(TASKS));
        assert.equal(await scalar('sum(mesos_executor_status_updates_total)'), String(3 * TASKS), 'STARTING, RUNNING, FINISHED');
        // The task's job is `job_name`: it stays as it is next to Prometheus' own target label `job`.
        assert.equal(await scalar(`mesos_executor_task_duration_seconds_count{job="mesos-executor",job_name="${JOB}"}`), String(TASKS));
        assert.equal(await scalar('mesos_executor_unacknowledged_updates'), '0');
        assert.equal(await scalar('mesos_executor_connected'), '1');
        // A scrape taken while the workload ran saw fewer: the executor was scraped DURING it.
        const lowest = Number(await scalar(`min_over_time(${finished}[10m])`));
        assert.ok(lowest < TASKS, `a scrape during the workload (lowest TASK_FINISHED seen: ${lowest})`);
        // Event-loop lag (prom-client's default metrics) is there under its standard name.
        assert.ok((await query(p.url, 'nodejs_eventloop_lag_p99_seconds{job="mesos-executor"}')).length === 1);

        child.kill('SIGINT');
        const code = await withTimeout(exited, { timeoutMs: 30_000, what: 'local to shut the executor down after Ctrl-C' });
        assert.equal(code, 0, `${stdout}\n${stderr}`);
        assert.match(stdout, /result +OK: every task ended TASK_FINISHED/);
        // The summary's metrics are the executor's once it stopped (wrapped to 80 columns).
        assert.match(stdout, new RegExp(`metrics +http://127\\.0\\.0\\.1:${metricsPort}/metrics after shutdown: ${TASKS} launched;\\s+updates TASK_STARTING ${TASKS},\\s+TASK_RUNNING ${TASKS},\\s+TASK_FINISHED ${TASKS}`));
      } finally {
        if (local !== undefined && !localDone) {
          const child = local;
          // Ctrl-C first: local then shuts its executor (a detached process group) down itself.
          child.kill('SIGINT');
          await withTimeout(exited, { timeoutMs: 20_000 }).catch(() => {
            child.kill('SIGKILL');
            return exited;
          });
        }
        await prometheus?.stop();
      }
    },
  );
});
