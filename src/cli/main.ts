import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { binfmtCommand } from './binfmt.js';
import { buildCommand } from './build.js';
import { imagesCommand } from './images.js';
import { inspectCommand } from './inspect.js';
import { manifestCommand } from './manifest.js';
import { pruneCommand } from './prune.js';
import { checkCommand } from './check.js';
import { duCommand } from './du.js';
import { pullCommand } from './pull.js';
import { pushCommand } from './push.js';
import { registryCommands } from './registry-commands.js';
import { rmiCommand } from './rmi.js';
import { runCommand } from './run.js';
import { tagCommand } from './tag.js';

const { version } = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

export function program(): Command {
  const program = new Command('tcbuild')
    .description('Build container images from Dockerfiles and move them between registries — no daemon.')
    .version(version, '-v, --version')
    .showHelpAfterError('(run with --help for usage)')
    .enablePositionalOptions(); // `tcbuild run IMAGE CMD --flag` passes --flag to CMD
  for (const cmd of [
    buildCommand(),
    pushCommand(),
    pullCommand(),
    imagesCommand(),
    rmiCommand(),
    runCommand(),
    tagCommand(),
    inspectCommand(),
    pruneCommand(),
    duCommand(),
    checkCommand(),
    binfmtCommand(),
    manifestCommand(),
    ...registryCommands(),
  ]) {
    program.addCommand(cmd);
  }
  return program;
}

export async function main(argv: string[]): Promise<void> {
  const cli = program().exitOverride();
  for (const cmd of cli.commands) cmd.exitOverride();
  try {
    await cli.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode;
      return;
    }
    throw err;
  }
}
