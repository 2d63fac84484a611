// Runs a command in a container over a busybox overlay and captures what it printed.
import { readFile } from 'node:fs/promises';
import { Writable } from 'node:stream';

import { runContainer, type ContainerRequest, type ContainerResult } from '../../src/sandbox/index.js';
import type { Overlay } from './rootfs.js';

export class Capture extends Writable {
  private chunks: Buffer[] = [];
  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    this.chunks.push(chunk);
    done();
  }
  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

export interface Run {
  result: ContainerResult;
  stdout: string;
  stderr: string;
}

export const ROOT = { uid: 0, gid: 0, additionalGids: [] };

/** Runs `sh -c script` (or `args`) as root with PATH=/bin, unless `overrides` says otherwise. */
export async function run(overlay: Overlay, script: string, overrides: Partial<ContainerRequest> = {}): Promise<Run> {
  const stdout = new Capture();
  const stderr = new Capture();
  const result = await runContainer({
    rootfs: overlay.rootfs,
    mountpoint: overlay.mountpoint,
    args: ['sh', '-c', script],
    env: ['PATH=/bin'],
    cwd: '/',
    user: ROOT,
    hostname: 'sandbox-test',
    network: 'none',
    stdout,
    stderr,
    ...overrides,
  });
  return { result, stdout: stdout.text(), stderr: stderr.text() };
}

export function mountinfo(): Promise<string> {
  return readFile('/proc/self/mountinfo', 'utf8');
}
