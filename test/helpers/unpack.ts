import assert from 'node:assert/strict';
import { join } from 'node:path';
import { run } from './cli.js';

/** Copies an image from the registry with skopeo and unpacks it with umoci: what other tools see. Returns the bundle dir. */
export async function unpackFromRegistry(reference: string, work: string): Promise<{ bundle: string; rootfs: string }> {
  const layout = join(work, 'oci');
  const copy = await run('skopeo', ['copy', '--src-tls-verify=false', `docker://${reference}`, `oci:${layout}:image`]);
  assert.equal(copy.code, 0, copy.stderr);
  const bundle = join(work, 'bundle');
  const unpack = await run('umoci', ['unpack', '--image', `${layout}:image`, bundle]);
  assert.equal(unpack.code, 0, unpack.stderr);
  return { bundle, rootfs: join(bundle, 'rootfs') };
}

export async function registryConfig<T>(reference: string): Promise<T> {
  const raw = await run('skopeo', ['inspect', '--tls-verify=false', '--config', '--raw', `docker://${reference}`]);
  assert.equal(raw.code, 0, raw.stderr);
  return JSON.parse(raw.stdout) as T;
}
