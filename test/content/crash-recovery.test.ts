import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { NEEDS_ROOT, TCBUILD, tcbuild } from '../helpers/cli.js';
import { useBusyboxRoot } from '../snapshot/busybox-root.js';

/** Resolves once `ready()` holds (polled), or rejects after `ms`. */
async function waitFor(ready: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await ready())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function largestIngest(root: string): Promise<number> {
  const names = await readdir(join(root, 'ingest')).catch(() => [] as string[]);
  const sizes = await Promise.all(
    names.map((n) =>
      stat(join(root, 'ingest', n)).then(
        (s) => s.size,
        () => 0,
      ),
    ),
  );
  return Math.max(0, ...sizes);
}

describe('a tcbuild killed with SIGKILL leaves a store the next one starts cleanly from', { skip: NEEDS_ROOT }, () => {
  const store = useBusyboxRoot();
  const env = () => store.env();

  it('killed while committing a big layer: the next build succeeds and every blob verifies', async () => {
    await writeFile(join(store.context, 'Dockerfile'), 'FROM busybox\nRUN head -c 120000000 /dev/urandom > /big\n');
    const child = spawn(TCBUILD, ['build', '-t', 'big:1', store.context], {
      env: { ...process.env, ...env() },
      stdio: 'ignore',
      detached: true,
    });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    await waitFor(async () => (await largestIngest(store.root)) > 8_000_000, 60_000, 'the layer to be half written');
    process.kill(-child.pid!, 'SIGKILL');
    await exited;
    assert.ok((await largestIngest(store.root)) > 0, 'the kill left a partial ingest behind');

    const again = await tcbuild(['build', '-t', 'big:1', store.context], env());
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(await readdir(join(store.root, 'ingest')), [], 'partial ingests were removed');
    const metadata = JSON.parse(await readFile(join(store.root, 'snapshots', 'metadata.json'), 'utf8')) as {
      snapshots: Array<{ kind: string }>;
    };
    assert.deepEqual(
      metadata.snapshots.filter((s) => s.kind !== 'committed'),
      [],
      'no half-made snapshot is left',
    );
    const check = await tcbuild(['check'], env());
    assert.equal(check.code, 0, check.stderr);
    assert.match(check.stdout, /^\d+ blobs verified$/m);
  });

  it('killed in the middle of a RUN: nothing is cached for the step, and its snapshot goes', async () => {
    await writeFile(join(store.context, 'Dockerfile'), 'FROM busybox\nRUN echo started > /started && sleep 30\n');
    const records = async (): Promise<number> => (await readdir(join(store.root, 'cache')).catch(() => [])).length;
    const recordsBefore = await records();
    const child = spawn(TCBUILD, ['build', store.context], {
      env: { ...process.env, ...env() },
      stdio: 'ignore',
      detached: true,
    });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const started = async (): Promise<boolean> => {
      const dirs = await readdir(join(store.root, 'snapshots', 'snapshots')).catch(() => [] as string[]);
      const found = await Promise.all(
        dirs.map((d) =>
          stat(join(store.root, 'snapshots', 'snapshots', d, 'fs', 'started')).then(
            () => true,
            () => false,
          ),
        ),
      );
      return found.includes(true);
    };
    await waitFor(started, 60_000, 'the RUN to start');
    process.kill(-child.pid!, 'SIGKILL');
    await exited;

    assert.equal(await records(), recordsBefore);
    const usage = await tcbuild(['du'], env());
    assert.equal(usage.code, 0, usage.stderr);
    const metadata = JSON.parse(await readFile(join(store.root, 'snapshots', 'metadata.json'), 'utf8')) as {
      snapshots: Array<{ kind: string }>;
    };
    assert.deepEqual(
      metadata.snapshots.filter((s) => s.kind !== 'committed'),
      [],
      "the killed RUN's snapshot was removed",
    );
  });
});
