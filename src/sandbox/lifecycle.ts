// Sandboxes running in this process, so that SIGINT or SIGTERM of tcbuild
// kills them and waits for their cleanup before tcbuild goes down.
import { setTimeout as sleep } from 'node:timers/promises';

import { removeOwnState } from './run-state.js';

interface Running {
  kill(): void;
  done: Promise<unknown>;
}

const running = new Set<Running>();
const SIGNALS = ['SIGINT', 'SIGTERM'] as const;
/** How long cleanup may take before the signal's default action goes on anyway. */
const CLEANUP_GRACE_MS = 3000;

async function onSignal(signal: NodeJS.Signals): Promise<void> {
  for (const s of SIGNALS) process.off(s, onSignal);
  for (const s of SIGNALS) process.on(s, ignore); // a second Ctrl-C waits for the cleanup too
  const all = [...running];
  for (const sandbox of all) sandbox.kill();
  await Promise.race([Promise.allSettled(all.map((s) => s.done)), sleep(CLEANUP_GRACE_MS)]);
  for (const s of SIGNALS) process.off(s, ignore);
  removeOwnState();
  process.kill(process.pid, signal);
}

function ignore(): void {}

/** Tracks a sandbox until `done` settles. */
export function trackSandbox(sandbox: Running): void {
  if (running.size === 0) for (const s of SIGNALS) process.on(s, onSignal);
  running.add(sandbox);
  const untrack = () => {
    running.delete(sandbox);
    if (running.size === 0) for (const s of SIGNALS) process.off(s, onSignal);
  };
  sandbox.done.then(untrack, untrack);
}
