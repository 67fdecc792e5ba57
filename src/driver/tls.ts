import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { TlsSettings } from './environment.js';

export interface TlsOptions {
  readonly ca?: string[];
  readonly cert?: string;
  readonly key?: string;
  readonly rejectUnauthorized: boolean;
}

/**
 * Turns libprocess's SSL settings into Node TLS options, reading the files once at start.
 * A CA directory is read whole (OpenSSL's hashed directories hold one PEM per file).
 * Without a CA file or directory Node's bundled roots apply, as the system defaults do for
 * libprocess.
 */
export function loadTlsOptions(settings: TlsSettings): TlsOptions {
  const ca: string[] = [];
  if (settings.caFile !== null) ca.push(readFileSync(settings.caFile, 'utf8'));
  if (settings.caDir !== null) {
    for (const name of readdirSync(settings.caDir).sort()) {
      const path = join(settings.caDir, name);
      if (statSync(path).isFile()) ca.push(readFileSync(path, 'utf8'));
    }
  }
  return {
    ...(ca.length > 0 ? { ca } : {}),
    ...(settings.certFile !== null ? { cert: readFileSync(settings.certFile, 'utf8') } : {}),
    ...(settings.keyFile !== null ? { key: readFileSync(settings.keyFile, 'utf8') } : {}),
    rejectUnauthorized: settings.verifyCert,
  };
}
