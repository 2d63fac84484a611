import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tcbuild } from './cli.js';

/**
 * A docker-archive of the store's busybox plus one layer of the files under `staging` (the
 * `paths` given, relative to it, owners and modes kept), as a hostile registry could serve it,
 * tagged `tag`. Written under `dir`; returns the archive's path, for `tcbuild load`.
 */
export async function busyboxWithLayer(opts: {
  root: string;
  dir: string;
  staging: string;
  paths: string[];
  tag: string;
  createdBy: string;
}): Promise<string> {
  const saved = join(opts.dir, 'saved');
  await mkdir(saved);
  const save = await tcbuild(['save', '-o', join(opts.dir, 'busybox.tar'), 'busybox'], { TCBUILD_ROOT: opts.root });
  assert.equal(save.code, 0, save.stderr);
  execFileSync('tar', ['-C', saved, '-xf', join(opts.dir, 'busybox.tar')]);
  execFileSync('tar', ['-C', opts.staging, '--numeric-owner', '-cf', join(saved, 'extra.tar'), ...opts.paths]);
  const [manifest] = JSON.parse(await readFile(join(saved, 'manifest.json'), 'utf8')) as {
    Config: string;
    Layers: string[];
  }[];
  const config = JSON.parse(await readFile(join(saved, manifest!.Config), 'utf8')) as {
    rootfs: { diff_ids: string[] };
    history?: unknown[];
  };
  config.rootfs.diff_ids.push(
    `sha256:${createHash('sha256')
      .update(await readFile(join(saved, 'extra.tar')))
      .digest('hex')}`,
  );
  config.history?.push({ created_by: opts.createdBy });
  await writeFile(join(saved, 'extra.json'), JSON.stringify(config));
  await writeFile(
    join(saved, 'manifest.json'),
    JSON.stringify([{ Config: 'extra.json', RepoTags: [opts.tag], Layers: [...manifest!.Layers, 'extra.tar'] }]),
  );
  const archive = join(opts.dir, `${opts.tag.replace(/[^a-z0-9]/g, '-')}.tar`);
  execFileSync('tar', ['-C', saved, '-cf', archive, 'manifest.json', 'extra.json', 'extra.tar', ...manifest!.Layers]);
  return archive;
}
