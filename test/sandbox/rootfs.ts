// Test fixtures for the sandbox: a tiny root filesystem made of the host's
// static busybox, and an overlay over it. Shared by other tests that run containers.
import { execFileSync } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { after, afterEach, before, beforeEach } from 'node:test';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { Mount } from '../../src/sandbox/index.js';

const BUSYBOX = '/bin/busybox';

/** Why container tests cannot run here, or false if they can: they need root for namespaces and mounts. */
export const skipUnlessRoot: string | false =
  process.getuid?.() === 0 ? false : 'needs root (namespaces and mounts); run the tests as root';

export const PASSWD = 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n';
export const GROUP = 'root:x:0:root\ntty:x:5:\naudio:x:29:app,root\nstaff:x:50:app\napp:x:1000:\n';

/**
 * Creates a root filesystem in a new temp dir: bin/busybox with a symlink for
 * every applet, etc/passwd with root and app (1000:1000), and etc/group where
 * app is also in audio (29) and staff (50). Returns its path.
 */
export async function makeBusyboxRootfs(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tcbuild-rootfs-'));
  await mkdir(join(dir, 'bin'));
  await mkdir(join(dir, 'etc'));
  await copyFile(BUSYBOX, join(dir, 'bin', 'busybox'));
  const applets = execFileSync(BUSYBOX, ['--list'], { encoding: 'utf8' }).split('\n');
  for (const applet of applets) {
    if (applet !== '' && applet !== 'busybox') await symlink('busybox', join(dir, 'bin', applet));
  }
  await writeFile(join(dir, 'etc', 'passwd'), PASSWD);
  await writeFile(join(dir, 'etc', 'group'), GROUP);
  return dir;
}

export interface Overlay {
  lower: string;
  upper: string;
  /** Empty directory to pass as ContainerRequest.mountpoint. */
  mountpoint: string;
  /** The ContainerRequest.rootfs for this overlay. */
  rootfs: Mount[];
  /** Removes everything but `lower`. */
  remove(): Promise<void>;
}

/** A writable overlay over `lower`, as the snapshotter would prepare it. */
export async function makeOverlay(lower: string): Promise<Overlay> {
  const dir = await mkdtemp(join(tmpdir(), 'tcbuild-overlay-'));
  const [upper, work, mountpoint] = ['upper', 'work', 'mnt'].map((name) => join(dir, name));
  for (const d of [upper, work, mountpoint]) await mkdir(d);
  return {
    lower,
    upper,
    mountpoint,
    rootfs: [
      {
        type: 'overlay',
        source: 'overlay',
        destination: '/',
        options: [`lowerdir=${lower}`, `upperdir=${upper}`, `workdir=${work}`],
      },
    ],
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

/**
 * Registers hooks of the enclosing suite: one busybox rootfs for it, and a
 * fresh overlay over that for each test. Read the fields inside tests.
 */
export function busyboxOverlayPerTest(): { readonly lower: string; readonly overlay: Overlay } {
  const fixture = {} as { lower: string; overlay: Overlay };
  before(async () => {
    fixture.lower = await makeBusyboxRootfs();
  });
  after(() => rm(fixture.lower, { recursive: true, force: true }));
  beforeEach(async () => {
    fixture.overlay = await makeOverlay(fixture.lower);
  });
  afterEach(() => fixture.overlay.remove());
  return fixture;
}

/** Entries of a directory, sorted; [] if it does not exist. */
export async function listDir(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).sort();
  } catch {
    return [];
  }
}
