import { Command } from 'commander';
import { InvalidInputError } from '../errors.js';
import { action, lazy, collect } from './action.js';
import { addRegistryFlags, registryOptions, type RegistryFlags } from './registry-flags.js';

const login = lazy(() => import('../api/login.js'), 'login');
const logout = lazy(() => import('../api/login.js'), 'logout');

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

export function loginCommand(): Command {
  const cmd = new Command('login')
    .description(
      'log in to a registry: check the credentials and store them in the docker config ($DOCKER_CONFIG/config.json)',
    )
    .argument('[server]', 'the registry host (default: Docker Hub)')
    .option('-u, --username <name>', 'the user name')
    .option(
      '-p, --password <password>',
      'the password (visible to other users of this machine: prefer --password-stdin)',
    )
    .option('--password-stdin', 'read the password from stdin');
  addRegistryFlags(cmd, collect);
  return cmd.action(
    action(
      async (
        server: string | undefined,
        flags: RegistryFlags & { username?: string; password?: string; passwordStdin?: boolean },
      ) => {
        if (flags.password !== undefined && flags.passwordStdin)
          throw new InvalidInputError('--password and --password-stdin are mutually exclusive');
        if (!flags.username)
          throw new InvalidInputError('login needs --username', {
            hint: 'e.g. echo "$TOKEN" | tcbuild login -u me --password-stdin registry.example.com',
          });
        const password = flags.passwordStdin ? await readStdin() : flags.password;
        if (!password)
          throw new InvalidInputError('login needs a password', { hint: 'pass it on stdin with --password-stdin' });
        const host = await login(server, { username: flags.username, password }, { registry: registryOptions(flags) });
        process.stdout.write(`Login Succeeded (${host})\n`);
      },
    ),
  );
}

export function logoutCommand(): Command {
  return new Command('logout')
    .description('remove the stored credentials of a registry')
    .argument('[server]', 'the registry host (default: Docker Hub)')
    .action(
      action(async (server: string | undefined) => {
        const removed = await logout(server);
        process.stdout.write(
          removed
            ? `Removing login credentials for ${server ?? 'docker.io'}\n`
            : `Not logged in to ${server ?? 'docker.io'}\n`,
        );
      }),
    );
}
