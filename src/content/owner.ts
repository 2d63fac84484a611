import { readFileSync } from 'node:fs';

/**
 * A process named so that a reused pid is not mistaken for it: "<pid>@<start time in clock
 * ticks since boot>" (field 22 of /proc/<pid>/stat).
 */
export type Owner = string;

function startTimeOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count fields after its last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

let self: Owner | undefined;

export function currentOwner(): Owner {
  self ??= `${process.pid}@${startTimeOf(process.pid) ?? '0'}`;
  return self;
}

/** Whether a process with this pid exists (it may be another one than was meant: see Owner). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function isOwnerAlive(owner: Owner): boolean {
  const [pid, start] = owner.split('@');
  return start !== undefined && startTimeOf(Number(pid)) === start;
}
