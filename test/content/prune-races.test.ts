// `tcbuild prune` racing another process on the same store, with the interleaving forced: prune is
// held up while it reads the build cache (a record that is a FIFO, released by the test) and,
// meanwhile, the other process takes up a blob or snapshot nothing refers to. Once prune is done,
// what the other process took up must still be there.
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { constants } from 'node:fs';
import { open, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import { digestHex, sha256 } from '../../src/image/digest.js';
import { NEEDS_ROOT, TCBUILD, tcbuild, tempRoot } from '../helpers/cli.js';

const rootModule = fileURLToPath(new URL('../../src/root.js', import.meta.url));

/** A node process with `store` (the root opened) in scope running `body`; its stdout by lines. */
function storeScript(
  root: string,
  body: string,
): { child: ChildProcessWithoutNullStreams; line: () => Promise<string> } {
  const child = spawn(process.execPath, [
    '--input-type=module',
    '-e',
    `
    import { createInterface } from 'node:readline';
    const { openRoot } = await import(${JSON.stringify(rootModule)});
    const store = await openRoot(${JSON.stringify(root)});
    const stdinLines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
    ${body}
    process.exit(0);
  `,
  ]);
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  return {
    child,
    line: async () => {
      const next = await lines.next();
      if (next.done) throw new Error(`the script ended without a line: ${stderr}`);
      return next.value;
    },
  };
}

const exitOf = (child: {
  exitCode: number | null;
  once(event: 'exit', listener: (code: number | null) => void): unknown;
}): Promise<number | null> =>
  child.exitCode !== null ? Promise.resolve(child.exitCode) : new Promise((resolve) => child.once('exit', resolve));

/** What the other process takes up while prune waits (`use`), and later relies on (`rely`): each prints a line. */
const SCENARIOS: Array<{ what: string; use: string; rely: string }> = [
  {
    what: 'a blob nothing refers to that it found',
    use: `const digest = ${JSON.stringify(sha256('orphan'))}; console.log(await store.layout.blobs.has(digest) ? 'used' : 'missing');`,
    rely: `await store.layout.blobs.readBuffer(digest);`,
  },
  {
    what: 'a blob it just wrote',
    use: `const { digest } = await store.layout.blobs.writeBuffer(Buffer.from('written while prune runs')); console.log('used');`,
    rely: `await store.layout.blobs.readBuffer(digest);`,
  },
  {
    what: 'a committed snapshot nothing refers to that it found',
    use: `console.log(await store.snapshotter.stat('orphan') ? 'used' : 'missing');`,
    rely: `await store.snapshotter.prepare('child', 'orphan');`,
  },
  {
    what: 'a snapshot it just committed',
    use: `await store.snapshotter.prepare('making', undefined); await store.snapshotter.commit('made', 'making'); console.log('used');`,
    rely: `await store.snapshotter.prepare('child', 'made');`,
  },
];

describe('prune racing another process on the store', { skip: NEEDS_ROOT }, () => {
  const roots: string[] = [];
  after(() => Promise.all(roots.map((r) => rm(r, { recursive: true, force: true }))));

  for (const scenario of SCENARIOS) {
    it(`keeps ${scenario.what}`, async () => {
      const root = await tempRoot();
      roots.push(root);
      const setup = storeScript(
        root,
        `
        await store.layout.blobs.writeBuffer(Buffer.from('orphan'));
        await store.snapshotter.prepare('k', undefined);
        await store.snapshotter.commit('orphan', 'k');
        console.log('set up');
      `,
      );
      assert.equal(await setup.line(), 'set up');
      assert.equal(await exitOf(setup.child), 0);

      const fifo = join(root, 'cache', digestHex(sha256('a record prune waits on')));
      execFileSync('mkdir', ['-p', join(root, 'cache')]);
      execFileSync('mkfifo', [fifo]);
      const prune = spawn(TCBUILD, ['prune'], {
        env: { ...process.env, TCBUILD_ROOT: root },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let pruneOutput = '';
      prune.stdout.on('data', (d: Buffer) => (pruneOutput += d.toString()));
      prune.stderr.on('data', (d: Buffer) => (pruneOutput += d.toString()));
      const pruned = exitOf(prune);

      // Opening the FIFO's write end completes once prune has it open to read the record.
      let writer: FileHandle | undefined;
      const opened = open(fifo, 'w').then((fh) => (writer = fh));
      const outcome = await Promise.race([opened.then(() => 'reading'), pruned.then(() => 'exited')]);
      if (outcome === 'exited') {
        await (await open(fifo, constants.O_RDONLY | constants.O_NONBLOCK)).close(); // lets our pending open finish
        await opened;
        await writer?.close();
        assert.fail(`prune ended without reading the build cache: ${pruneOutput}`);
      }

      const user = storeScript(root, `${scenario.use}\nawait stdinLines.next();\n${scenario.rely}\nconsole.log('ok');`);
      assert.equal(await user.line(), 'used');
      await writer!.writeFile(
        JSON.stringify({
          snapshot: 'gone',
          layer: {
            descriptor: { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha256('gone'), size: 4 },
            diffId: sha256('gone'),
          },
        }),
      );
      await writer!.close();
      assert.equal(await pruned, 0, pruneOutput);

      user.child.stdin.write('go\n');
      assert.equal(await user.line(), 'ok');
      assert.equal(await exitOf(user.child), 0);
      const check = await tcbuild(['check'], { TCBUILD_ROOT: root });
      assert.equal(check.code, 0, check.stderr);
    });
  }
});
