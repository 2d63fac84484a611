// One sandbox's cgroup (a directory per v1 controller, or one v2 directory):
// limits, device rules, OOM detection, kill of everything in it, removal.
import { mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync, type Dirent } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { ALLOWED_DEVICES } from '../docker-defaults.js';
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
  private constructor(
    private readonly version: 1 | 2,
    /** controller ('' on v2) → directory */
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
      const wanted: V1Controller[] = ['pids', 'devices', 'freezer'];
      if (limits.memory !== undefined) wanted.push('memory');
      if (limits.cpus !== undefined) wanted.push('cpu');
      for (const controller of wanted) {
        const parent = hierarchy.parents[controller];
        if (parent) dirs.set(controller, join(parent, name));
      }
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
      hierarchy.version === 2 ? [['', hierarchy.parent]] : Object.entries(hierarchy.parents);
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

  /** Whether device access is limited to ALLOWED_DEVICES (else CAP_MKNOD must go). */
  get limitsDevices(): boolean {
    return this.dirs.has('devices');
  }

  /** Whether the kernel's OOM killer killed a process of this cgroup. */
  oomKilled(): boolean {
    const file = this.version === 2 ? this.file('', 'memory.events') : this.file('memory', 'memory.oom_control');
    if (!file) return false;
    const match = /^oom_kill (\d+)$/m.exec(readOrEmpty(file));
    return match !== null && Number(match[1]) > 0;
  }

  /** SIGKILLs every process in the cgroup: cgroup.kill on v2; on v1 frozen first, so none can fork meanwhile. */
  kill(): void {
    if (this.version === 2) {
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
      for (const rule of ALLOWED_DEVICES) set('devices', 'devices.allow', '', rule);
    }
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
