// The store holds what images ship — setuid binaries, device nodes — so no other local user may
// reach anything in it: a new root is made 0700, and one an older tcbuild left world-readable is
// tightened when it is next opened.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmod, lstat, mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { loadFixture } from '../../scripts/fixtures.js';
import { NEEDS_ROOT, tcbuild } from '../helpers/cli.js';
import { busyboxWithLayer } from '../helpers/layered-base.js';

const NOBODY = ['--reuid=65534', '--regid=65534', '--clear-groups'];

/** What a process of uid/gid 65534 gets for each path: 'ok', or the error code — of lstat, open, exec. */
function asNobody(paths: { stat: string[]; open: string[]; exec: string[]; list: string[] }): Record<string, string> {
  const script = `
    const fs = require('node:fs');
    const { spawnSync } = require('node:child_process');
    const paths = JSON.parse(fs.readFileSync(0, 'utf8'));
    const seen = {};
    const tryIt = (kind, path, fn) => { try { fn(path); seen[kind + ' ' + path] = 'ok'; } catch (e) { seen[kind + ' ' + path] = e.code; } };
    for (const p of paths.stat) tryIt('stat', p, fs.lstatSync);
    for (const p of paths.open) tryIt('open', p, (x) => fs.closeSync(fs.openSync(x, 'r')));
    for (const p of paths.exec) tryIt('exec', p, (x) => { const r = spawnSync(x); if (r.error) throw r.error; });
    for (const p of paths.list) tryIt('list', p, fs.readdirSync);
    process.stdout.write(JSON.stringify(seen));
  `;
  return JSON.parse(
    execFileSync('setpriv', [...NOBODY, process.execPath, '-e', script], {
      input: JSON.stringify(paths),
      encoding: 'utf8',
      cwd: '/',
    }),
  ) as Record<string, string>;
}

/** Every path below `dir`, and which of them are setuid files and device nodes. */
async function walk(dir: string): Promise<{ all: string[]; setuid: string[]; devices: string[] }> {
  const found = { all: [] as string[], setuid: [] as string[], devices: [] as string[] };
  const visit = async (d: string): Promise<void> => {
    for (const name of await readdir(d)) {
      const path = join(d, name);
      const st = await lstat(path);
      found.all.push(path);
      if (st.isFile() && st.mode & 0o4000) found.setuid.push(path);
      if (st.isCharacterDevice() || st.isBlockDevice()) found.devices.push(path);
      if (st.isDirectory()) await visit(path);
    }
  };
  await visit(dir);
  return found;
}

/** Tries every path under `root` as nobody: stat, open (device nodes), exec (setuid files), listing of the root. */
async function probeStore(
  root: string,
): Promise<{ found: Awaited<ReturnType<typeof walk>>; seen: Record<string, string> }> {
  const found = await walk(root);
  return { found, seen: asNobody({ stat: found.all, open: found.devices, exec: found.setuid, list: [root] }) };
}

function assertNothingReachable(root: string, probe: Awaited<ReturnType<typeof probeStore>>): void {
  const { found, seen } = probe;
  assert.ok(
    found.setuid.length >= 2,
    `the image's setuid file is in the store, unpacked and in the cache mount: ${found.setuid.join(', ')}`,
  );
  assert.ok(
    found.devices.length >= 2,
    `the image's device node is in the store, and the one the RUN made: ${found.devices.join(', ')}`,
  );
  const reached = Object.entries(seen).filter(([, outcome]) => outcome !== 'EACCES');
  assert.deepEqual(reached, [], `nobody reached these in ${root}`);
  assert.equal(Object.keys(seen).length, found.all.length + found.devices.length + found.setuid.length + 1);
}

describe('the store is private to its owner', { skip: NEEDS_ROOT }, () => {
  let parent: string;
  let root: string;
  let context: string;
  const env = () => ({ TCBUILD_ROOT: root });

  before(async () => {
    parent = await mkdtemp(join(tmpdir(), 'tcbuild-private-'));
    await chmod(parent, 0o755); // open to everyone, as /var/lib is
    root = join(parent, 'store');
    await loadFixture('busybox:latest', root);
    const staging = join(parent, 'staging');
    await mkdir(join(staging, 'devs'), { recursive: true });
    await writeFile(join(staging, 'suid'), '#!/bin/sh\nid\n');
    await chmod(join(staging, 'suid'), 0o4755);
    execFileSync('mknod', [join(staging, 'devs', 'mem'), 'c', '1', '1']);
    const archive = await busyboxWithLayer({
      root,
      dir: parent,
      staging,
      paths: ['suid', 'devs'],
      tag: 'suidbase:latest',
      createdBy: 'a setuid file and /dev/mem',
    });
    const load = await tcbuild(['load', '-i', archive], env());
    assert.equal(load.code, 0, load.stderr);
    context = join(parent, 'context');
    await mkdir(context);
    await writeFile(join(parent, 'secret'), 'the secret\n');
    await writeFile(
      join(context, 'Dockerfile'),
      [
        'FROM suidbase',
        'RUN --mount=type=cache,target=/cache cp -a /suid /cache/suid && rm -f /cache/mem && mknod /cache/mem c 1 1 && mknod /made-mem c 1 1',
        'USER 65534',
        'RUN --mount=type=secret,id=s,uid=65534 --mount=type=cache,id=user,target=/mine,uid=65534 cat /run/secrets/s /suid > /mine/seen && ls /devs > /dev/null',
        '',
      ].join('\n'),
    );
  });

  after(async () => {
    await rm(parent, { recursive: true, force: true });
  });

  it('a new store is 0700, and after a build (a RUN as a non-root user, a secret, cache mounts) nobody else can stat, open or exec anything in it', async () => {
    assert.equal((await stat(root)).mode & 0o777, 0o700);
    const build = await tcbuild(
      ['build', '--secret', `id=s,src=${join(parent, 'secret')}`, '-t', 'private:1', context],
      env(),
    );
    assert.equal(build.code, 0, build.stderr);
    assertNothingReachable(root, await probeStore(root));
  });

  it('a store an older tcbuild left world-readable is tightened when next opened; du, check and builds work on it', async () => {
    for (const dir of [
      root,
      ...['snapshots', 'native-snapshots', 'cache-mounts', 'run', 'tmp', 'ingest', 'blobs'].map((d) => join(root, d)),
    ]) {
      await chmod(dir, 0o755).catch(() => undefined);
    }
    const before = await probeStore(root);
    const reachable = before.found.setuid.filter((path) => before.seen[`exec ${path}`] !== 'EACCES');
    assert.ok(reachable.length > 0, 'the loosened store lets nobody reach a setuid file, as the old one did');

    const du = await tcbuild(['du'], env());
    assert.equal(du.code, 0, du.stderr);
    assert.equal((await stat(root)).mode & 0o777, 0o700);
    assertNothingReachable(root, await probeStore(root));

    const check = await tcbuild(['check'], env());
    assert.equal(check.code, 0, check.stderr);
    assert.match(check.stdout, /^\d+ blobs verified$/m);
    const again = await tcbuild(
      ['build', '--secret', `id=s,src=${join(parent, 'secret')}`, '--no-cache', '-t', 'private:2', context],
      env(),
    );
    assert.equal(again.code, 0, again.stderr);
    assertNothingReachable(root, await probeStore(root));
  });
});
