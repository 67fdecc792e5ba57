// Telling another process where the endpoint listens. With `--metrics-port 0` only the executor
// knows its port; with `--metrics-address-file <path>` it writes it there once it listens, before
// it subscribes to the agent. The `local` command points this into the executor's sandbox and
// reads it back after SUBSCRIBE: no port is picked in one process and bound in another (a race),
// and no log line has to be parsed (logs may be silenced).
import { readFile, rename, writeFile } from 'node:fs/promises';
import type { MetricsServer } from './server.js';

/** The file's content (JSON). */
export interface MetricsAddress {
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** The executor process. */
  readonly pid: number;
}

/** Writes the address atomically (a temporary file renamed), so a reader never sees half of it. */
export async function writeMetricsAddress(file: string, server: Pick<MetricsServer, 'url' | 'host' | 'port'>): Promise<MetricsAddress> {
  const address: MetricsAddress = { url: server.url, host: server.host, port: server.port, pid: process.pid };
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(address)}\n`, { mode: 0o644 });
  await rename(temporary, file);
  return address;
}

/** Reads an address file; undefined when it does not exist (yet) or is not an address. */
export async function readMetricsAddress(file: string): Promise<MetricsAddress | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const parsed = JSON.parse(text) as Partial<MetricsAddress>;
    if (typeof parsed.url !== 'string' || typeof parsed.port !== 'number' || typeof parsed.host !== 'string') return undefined;
    return { url: parsed.url, host: parsed.host, port: parsed.port, pid: typeof parsed.pid === 'number' ? parsed.pid : 0 };
  } catch {
    return undefined;
  }
}
