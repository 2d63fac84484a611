import { Command } from 'commander';
import { verifyBlobs } from '../content/verify.js';
import { DigestMismatchError } from '../errors.js';
import { openRoot } from '../root.js';
import { action } from './action.js';

export function checkCommand(): Command {
  return new Command('check')
    .description('verify the local store: every blob is re-hashed against its name (recovers from crashes first)')
    .action(
      action(async () => {
        const { layout } = await openRoot();
        const { checked, problems } = await verifyBlobs(layout.blobs);
        for (const p of problems) process.stderr.write(`corrupt blob ${p.digest}: ${p.problem}\n`);
        if (problems.length > 0) {
          throw new DigestMismatchError(`${problems.length} of ${checked} blobs are corrupt`, {
            hint: 'remove them (rm the files under blobs/sha256) and pull or build again',
          });
        }
        process.stdout.write(`${checked} blobs verified\n`);
      }),
    );
}
