/**
 * The README's demo: loads the offline busybox base image into the local store, builds
 * fixtures/hello into demo:latest and runs it in the sandbox — no registry, no internet.
 */
import { join } from 'node:path';
import { build } from '../src/api/build.js';
import { inspect } from '../src/api/images.js';
import { run } from '../src/api/run.js';
import { TcbuildError } from '../src/errors.js';
import { reportError } from '../src/cli/action.js';
import { PlainProgress } from '../src/progress/progress.js';
import { FIXTURE_REPO, loadFixture } from './fixtures.js';

async function demo(): Promise<void> {
  process.stdout.write(`base image: ${await loadFixture()}\n`);
  const result = await build({
    context: join(FIXTURE_REPO, 'fixtures', 'hello'),
    tags: ['demo:latest'],
    progress: new PlainProgress(process.stdout),
  });
  const { config, manifest } = await inspect('demo:latest');
  process.stdout.write(
    [
      `built ${result.tags.join(', ')} → ${result.digest}`,
      `  layers: ${manifest!.layers.length} (${manifest!.layers.reduce((n, l) => n + l.size, 0)} bytes compressed)`,
      `  entrypoint: ${JSON.stringify(config!.config.Entrypoint)}  cmd: ${JSON.stringify(config!.config.Cmd)}`,
      `  user: ${config!.config.User}  workdir: ${config!.config.WorkingDir}  ports: ${Object.keys(config!.config.ExposedPorts ?? {}).join(', ')}`,
      'running it in the sandbox (tcbuild run demo:latest):',
      '',
    ].join('\n'),
  );
  const ran = await run('demo:latest', { stdout: process.stdout, stderr: process.stderr });
  if (ran.exitCode !== 0) throw new TcbuildError(`the demo image exited with ${ran.exitCode ?? ran.signal}`);
  process.stdout.write('try: bin/tcbuild images; bin/tcbuild inspect demo:latest; bin/tcbuild run demo:latest you\n');
}

demo().catch((err: unknown) => {
  process.exitCode = reportError(err);
});
