import type { ContainerRequest, ContainerResult } from './types.js';

/** "exited with code 3", "was killed by SIGKILL", "was killed: out of memory (limit 64 MiB)", ... */
export function describeExit(result: ContainerResult, req: Pick<ContainerRequest, 'memory' | 'timeoutMs'>): string {
  if (result.oomKilled)
    return `was killed: out of memory${req.memory !== undefined ? ` (limit ${formatBytes(req.memory)})` : ''}`;
  if (result.timedOut)
    return `was killed: timed out${req.timeoutMs !== undefined ? ` after ${req.timeoutMs / 1000} s` : ''}`;
  if (result.signal) return `was killed by ${result.signal}`;
  return `exited with code ${result.exitCode}`;
}

export function formatBytes(bytes: number): string {
  for (const [unit, size] of [
    ['GiB', 2 ** 30],
    ['MiB', 2 ** 20],
    ['KiB', 2 ** 10],
  ] as const) {
    if (bytes >= size) return `${Number((bytes / size).toFixed(1))} ${unit}`;
  }
  return `${bytes} B`;
}
