import { Command } from 'commander';
import { FailedPreconditionError } from '../errors.js';
import { formatPlatform, parsePlatform } from '../image/platform.js';
import { emulatorFor, installEmulators, runsNatively } from '../sandbox/binfmt.js';
import { action } from './action.js';

const SHOWN = [
  'linux/amd64',
  'linux/arm64',
  'linux/arm/v7',
  'linux/386',
  'linux/riscv64',
  'linux/ppc64le',
  'linux/s390x',
];

export function binfmtCommand(): Command {
  return new Command('binfmt')
    .description('show which platforms RUN steps can run on here, or register QEMU emulators (--install)')
    .option('--install', 'register the binfmt_misc handlers of an installed qemu-user-static (root)')
    .action(
      action(async (flags: { install?: boolean }) => {
        if (flags.install) {
          const names = await installEmulators();
          process.stdout.write(`registered: ${names.join(', ')}\n`);
        }
        for (const spec of SHOWN) {
          const p = parsePlatform(spec);
          const how = runsNatively(p) ? 'native' : (await emulatorFor(p))?.interpreter;
          process.stdout.write(`${formatPlatform(p).padEnd(16)} ${how ? how : 'not available'}\n`);
        }
        if (
          !flags.install &&
          !(await emulatorFor(parsePlatform('linux/arm64'))) &&
          !(await emulatorFor(parsePlatform('linux/amd64')))
        ) {
          throw new FailedPreconditionError('no emulators are registered', {
            hint: 'run "tcbuild binfmt --install" as root (needs qemu-user-static)',
          });
        }
      }),
    );
}
