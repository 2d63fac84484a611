// One sandbox's cgroup (a directory per v1 controller, or one v2 directory, or
// both in hybrid mode): limits, device rules, OOM detection, kill of everything
// in it, removal.
import {
  closeSync,
  constants,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  writeFileSync,
  type Dirent,
} from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { InvalidInputError } from '../../errors.js';
import { nativeAddon } from '../../native-addon.js';
import { deviceProgram, v1DeviceRules } from './device-rules.js';
import { cgroupHierarchy, type V1Controller } from './hierarchy.js';

export interface CgroupLimits {
  /** Bytes of memory; swap may add as much again, as in Docker. */
  memory?: number;
  /** CPUs' worth of time per period, e.g. 1.5. */
  cpus?: number;
  /** Most processes (and threads) at once. */
  pidsLimit: number;
}

const CPU_PERIOD_US = 100_000;

export class Cgroup {
  private deviceProgramAttached = false;

  private constructor(
    private readonly version: 1 | 2,
    /** v1 controller, or '' for the v2 directory → directory */
    private readonly dirs: Map<string, string>,
  ) {}

  /** A new cgroup named `name` with `limits`, or null where cgroups are not available. */
  static create(name: string, limits: CgroupLimits): Cgroup | null {
    const hierarchy = cgroupHierarchy();
    if (!hierarchy) return null;
    const dirs = new Map<string, string>();
    if (hierarchy.version === 2) {
      dirs.set('', join(hierarchy.parent, name));
    } else {
      const wanted: V1Controller[] = ['pids', 'freezer'];
      if (v1DevicesWanted()) wanted.push('devices');
      if (limits.memory !== undefined) wanted.push('memory');
      if (limits.cpus !== undefined) wanted.push('cpu');
      for (const controller of wanted) {
        const parent = hierarchy.parents[controller];
        if (parent) dirs.set(controller, join(parent, name));
      }
      if (hierarchy.unified) dirs.set('', join(hierarchy.unified, name));
    }
    const cgroup = new Cgroup(hierarchy.version, dirs);
    try {
      for (const dir of dirs.values()) mkdirSync(dir);
      cgroup.apply(limits);
    } catch (err) {
      cgroup.removeNow();
      throw err;
    }
    return cgroup;
  }

  /** Every cgroup directory this process could have made for sandboxes, by name. */
  static list(): Map<string, Cgroup> {
    const hierarchy = cgroupHierarchy();
    const found = new Map<string, Cgroup>();
    if (!hierarchy) return found;
    const parents: [string, string][] =
      hierarchy.version === 2
        ? [['', hierarchy.parent]]
        : [
            ...Object.entries(hierarchy.parents),
            ...(hierarchy.unified ? [['', hierarchy.unified] as [string, string]] : []),
          ];
    for (const [controller, parent] of parents) {
      for (const entry of readdirOrEmpty(parent)) {
        if (!entry.isDirectory()) continue;
        const cgroup = found.get(entry.name) ?? new Cgroup(hierarchy.version, new Map());
        cgroup.dirs.set(controller, join(parent, entry.name));
        found.set(entry.name, cgroup);
      }
    }
    return found;
  }

  /** The cgroup.procs files the init's pid is written to before it starts. */
  get procs(): string[] {
    return [...this.dirs.values()].map((dir) => join(dir, 'cgroup.procs'));
  }

  /** Whether device access is limited to ALLOWED_DEVICES, by the v1 devices controller or the v2 device program. */
  get limitsDevices(): boolean {
    return this.dirs.has('devices') || this.deviceProgramAttached;
  }

  /** Whether the kernel's OOM killer killed a process of this cgroup. */
  oomKilled(): boolean {
    const file = this.version === 2 ? this.file('', 'memory.events') : this.file('memory', 'memory.oom_control');
    if (!file) return false;
    const match = /^oom_kill (\d+)$/m.exec(readOrEmpty(file));
    return match !== null && Number(match[1]) > 0;
  }

  /**
   * SIGKILLs every process in the cgroup: cgroup.kill of its v2 directory; else frozen first, so none can fork
   * meanwhile.
   */
  kill(): void {
    if (this.dirs.has('')) {
      try {
        writeFileSync(this.file('', 'cgroup.kill')!, '1');
        return;
      } catch {
        // before Linux 5.14: one by one below
      }
    }
    const freezer = this.file('freezer', 'freezer.state');
    if (freezer) writeQuietly(freezer, 'FROZEN');
    for (const dir of this.dirs.values()) {
      for (const pid of readOrEmpty(join(dir, 'cgroup.procs')).split('\n').filter(Boolean)) {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
    if (freezer) writeQuietly(freezer, 'THAWED');
  }

  /** Removes the cgroup once its last process has gone (which takes a moment after a kill). */
  async remove(): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        this.removeNow();
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EBUSY' || attempt === 200) throw err;
        if (attempt === 20) this.kill();
        await sleep(5);
      }
    }
  }

  private removeNow(): void {
    for (const dir of this.dirs.values()) {
      try {
        rmdirSync(dir);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
  }

  private file(controller: string, name: string): string | undefined {
    const dir = this.dirs.get(controller);
    return dir === undefined ? undefined : join(dir, name);
  }

  private apply(limits: CgroupLimits): void {
    const v2 = this.version === 2;
    const set = (controller: V1Controller, v1Name: string, v2Name: string, value: string) => {
      const file = this.file(v2 ? '' : controller, v2 ? v2Name : v1Name);
      if (!file) return;
      try {
        writeFileSync(file, value);
      } catch (err) {
        throw new Error(`cannot set ${v2 ? v2Name : v1Name} to ${value}: ${(err as Error).message}`);
      }
    };
    if (limits.pidsLimit > 0) set('pids', 'pids.max', 'pids.max', String(limits.pidsLimit));
    if (limits.memory !== undefined) {
      set('memory', 'memory.limit_in_bytes', 'memory.max', String(limits.memory));
      if (v2) set('memory', '', 'memory.swap.max', String(limits.memory));
      else if (exists(this.file('memory', 'memory.memsw.limit_in_bytes'))) {
        set('memory', 'memory.memsw.limit_in_bytes', '', String(limits.memory * 2));
      }
    }
    if (limits.cpus !== undefined) {
      const quota = String(Math.round(limits.cpus * CPU_PERIOD_US));
      if (v2) set('cpu', '', 'cpu.max', `${quota} ${CPU_PERIOD_US}`);
      else {
        set('cpu', 'cpu.cfs_period_us', '', String(CPU_PERIOD_US));
        set('cpu', 'cpu.cfs_quota_us', '', quota);
      }
    }
    if (!v2 && this.dirs.has('devices')) {
      set('devices', 'devices.deny', '', 'a');
      for (const rule of v1DeviceRules()) set('devices', 'devices.allow', '', rule);
    }
    const v2Dir = this.dirs.get('');
    if (v2Dir === undefined) return;
    this.deviceProgramAttached = attachDeviceProgram(v2Dir);
    if (!this.deviceProgramAttached && !v2) {
      // In hybrid mode that directory is there for the program alone.
      rmdirSync(v2Dir);
      this.dirs.delete('');
    }
  }
}

/**
 * TCBUILD_DEVICE_CGROUP=v2 leaves device access to the v2 device program alone
 * where the v1 devices controller would limit it too (hybrid mode).
 */
function v1DevicesWanted(): boolean {
  const value = process.env.TCBUILD_DEVICE_CGROUP ?? '';
  if (value === '') return true;
  if (value === 'v2') return false;
  throw new InvalidInputError(
    `TCBUILD_DEVICE_CGROUP is "${value}": it takes "v2" (device access limited by the cgroup v2 device program ` +
      `alone) or nothing`,
    {
      hint: 'unset TCBUILD_DEVICE_CGROUP, or set it to v2',
    },
  );
}

interface DeviceProgramAddon {
  attachDeviceProgram(cgroupDirFd: number, instructions: Buffer): void;
}

/**
 * Attaches the device program to a v2 cgroup directory; false where the kernel
 * refuses it (bpf(2) missing, older than Linux 4.15, or not permitted here).
 * The program goes with the directory's removal.
 */
function attachDeviceProgram(dir: string): boolean {
  const fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    nativeAddon<DeviceProgramAddon>().attachDeviceProgram(fd, deviceProgram());
    return true;
  } catch (err) {
    if (typeof (err as NodeJS.ErrnoException).errno === 'number') return false;
    throw err;
  } finally {
    closeSync(fd);
  }
}

function readdirOrEmpty(dir: string): Dirent[] {
  try {
    return readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
}

function readOrEmpty(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

function exists(file: string | undefined): boolean {
  return file !== undefined && readOrEmpty(file) !== '';
}

function writeQuietly(file: string, value: string): void {
  try {
    writeFileSync(file, value);
  } catch {
    // best effort: the kill that follows still works, only less atomically
  }
}
