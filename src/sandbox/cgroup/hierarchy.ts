// Where this process may create cgroups: the v2 tree when it offers the memory
// and pids controllers, else the v1 hierarchies of the controllers we use, plus
// (hybrid mode) the v2 tree for the device program alone.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const V1_CONTROLLERS = ['memory', 'pids', 'cpu', 'devices', 'freezer'] as const;
export type V1Controller = (typeof V1_CONTROLLERS)[number];

/** Directories under which this process's sandboxes get their cgroups (`<dir>/<name>`). */
export type Hierarchy =
  | { version: 2; parent: string }
  | {
      version: 1;
      parents: Partial<Record<V1Controller, string>>;
      /**
       * In the v2 tree, for the device program alone: beside the v1 hierarchies (hybrid
       * mode, its tree has no controllers), or where it lacks the memory and pids controllers.
       */
      unified?: string;
    };

interface CgroupMount {
  type: 'cgroup' | 'cgroup2';
  root: string;
  mountpoint: string;
  controllers: string[];
}

function cgroupMounts(): CgroupMount[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => {
      const [before, after] = line.split(' - ');
      const fields = before?.split(' ') ?? [];
      const [type, , superOptions] = after?.split(' ') ?? [];
      if (type !== 'cgroup' && type !== 'cgroup2') return undefined;
      return {
        type,
        root: unescape(fields[3]!),
        mountpoint: unescape(fields[4]!),
        controllers: (superOptions ?? '').split(','),
      };
    })
    .filter((m): m is CgroupMount => m !== undefined);
}

const unescape = (s: string) => s.replace(/\\(\d{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));

/** controller list ('' for v2) → this process's cgroup path, from /proc/self/cgroup. */
function ownCgroups(): Map<string, string> {
  const own = new Map<string, string>();
  for (const line of readFileSync('/proc/self/cgroup', 'utf8').trim().split('\n')) {
    const [, controllers, path] = line.match(/^\d+:([^:]*):(.*)$/) ?? [];
    if (controllers !== undefined && path !== undefined) own.set(controllers, path);
  }
  return own;
}

function dirOf(mount: CgroupMount, path: string): string {
  const relative = mount.root !== '/' && path.startsWith(mount.root) ? path.slice(mount.root.length) : path;
  return join(mount.mountpoint, relative, 'tcbuild');
}

function readControllers(dir: string): string[] {
  try {
    return readFileSync(join(dir, 'cgroup.controllers'), 'utf8').trim().split(/\s+/);
  } catch {
    return [];
  }
}

/**
 * On v2 a cgroup with processes cannot hand controllers to its children, so
 * when ours has them enabling fails with EBUSY: this process moves into a
 * leaf of its own first, as container engines running inside containers do.
 */
function enableV2Controllers(own: string, parent: string): void {
  const wanted = ['memory', 'pids', 'cpu'].filter((c) => readControllers(own).includes(c));
  const enable = (dir: string) =>
    writeFileSync(join(dir, 'cgroup.subtree_control'), wanted.map((c) => `+${c}`).join(' '));
  try {
    enable(own);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EBUSY') throw err;
    const leaf = join(own, 'tcbuild-supervisor');
    mkdirSync(leaf, { recursive: true });
    writeFileSync(join(leaf, 'cgroup.procs'), String(process.pid));
    enable(own);
  }
  mkdirSync(parent, { recursive: true });
  enable(parent);
}

function detect(): Hierarchy | null {
  const mounts = cgroupMounts();
  const own = ownCgroups();
  const v2 = mounts.find((m) => m.type === 'cgroup2');
  const v2Path = own.get('');
  let unified: string | undefined;
  if (v2 && v2Path !== undefined) {
    const ownDir = join(
      v2.mountpoint,
      v2.root !== '/' && v2Path.startsWith(v2.root) ? v2Path.slice(v2.root.length) : v2Path,
    );
    const available = readControllers(ownDir);
    const parent = dirOf(v2, v2Path);
    if (available.includes('memory') && available.includes('pids')) {
      enableV2Controllers(ownDir, parent);
      return { version: 2, parent };
    }
    unified = makeDirOrUndefined(parent);
  }
  const parents: Partial<Record<V1Controller, string>> = {};
  for (const controller of V1_CONTROLLERS) {
    const mount = mounts.find((m) => m.type === 'cgroup' && m.controllers.includes(controller));
    const path = [...own].find(([list]) => list.split(',').includes(controller))?.[1];
    if (!mount || path === undefined) continue;
    parents[controller] = dirOf(mount, path);
    mkdirSync(parents[controller]!, { recursive: true });
  }
  return parents.pids || parents.memory || unified ? { version: 1, parents, ...(unified ? { unified } : {}) } : null;
}

/** A read-only v2 tree (a container's, say) leaves the v1 controllers to do what they can. */
function makeDirOrUndefined(dir: string): string | undefined {
  try {
    mkdirSync(dir, { recursive: true });
    return dir;
  } catch {
    return undefined;
  }
}

let detected: Hierarchy | null | undefined;

/** Detected once per process; null when no usable cgroup hierarchy is writable (not root, say). */
export function cgroupHierarchy(): Hierarchy | null {
  if (detected === undefined) {
    try {
      detected = detect();
    } catch {
      detected = null;
    }
  }
  return detected;
}
