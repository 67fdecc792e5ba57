import cliProgress from 'cli-progress';

/** Shows how far a run is. */
export interface ProgressView {
  update(done: number, running: number): void;
  stop(): void;
}

/**
 * A progress bar on a terminal; plain lines elsewhere (a CI log, a Mesos sandbox file), at most
 * one every `intervalMs` and one at each tenth, so the log stays readable.
 */
export function createProgressView(total: number, stream: NodeJS.WriteStream, intervalMs = 2000): ProgressView {
  if (stream.isTTY === true) {
    const bar = new cliProgress.SingleBar(
      {
        stream,
        format: '  {bar} {percentage}% | {value}/{total} tasks | in flight {running} | {rate} tasks/s | {elapsed}s',
        hideCursor: true,
        clearOnComplete: false,
        // Within 80 columns with up to 7-digit counts.
        barsize: 20,
      },
      cliProgress.Presets.shades_classic,
    );
    const started = performance.now();
    bar.start(total, 0, { running: 0, rate: '0', elapsed: '0.0' });
    return {
      update(done, running) {
        const seconds = (performance.now() - started) / 1000;
        bar.update(done, { running, rate: seconds > 0 ? (done / seconds).toFixed(0) : '0', elapsed: seconds.toFixed(1) });
      },
      stop() {
        bar.stop();
      },
    };
  }
  let lastAt = 0;
  let lastTenth = -1;
  return {
    update(done, running) {
      const now = performance.now();
      const tenth = Math.floor((done * 10) / total);
      if (tenth === lastTenth && now - lastAt < intervalMs) return;
      lastAt = now;
      lastTenth = tenth;
      stream.write(`  progress: ${done}/${total} tasks done, ${running} in flight\n`);
    },
    stop() {},
  };
}
