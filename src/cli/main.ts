#!/usr/bin/env node
// The `mesos-pool-executor` command. The only module that calls process.exit.
import { readFileSync } from 'node:fs';
import { MesosExecutorError } from '../errors.js';
import { parseCommand, USAGE } from './args.js';
import { executorCommand } from './executor-command.js';
import { localCommand } from './local-command.js';

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

async function main(argv: readonly string[]): Promise<number> {
  const command = parseCommand(argv);
  switch (command.kind) {
    case 'help':
      process.stdout.write(USAGE);
      return 0;
    case 'version':
      process.stdout.write(`${version()}\n`);
      return 0;
    case 'executor':
      return executorCommand(command.options, { exit: (code) => process.exit(code) });
    case 'local':
      return localCommand(command.options);
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    // Configuration errors get their message only; anything else its stack, for a bug report.
    if (error instanceof MesosExecutorError) {
      process.stderr.write(`mesos-pool-executor: ${error.message} [${error.code}]\n`);
      process.exit(2);
    }
    process.stderr.write(`mesos-pool-executor: unexpected failure: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
