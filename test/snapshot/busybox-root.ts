import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { loadFixture } from '../../scripts/fixtures.js';
import { NEEDS_ROOT, tempRoot } from '../helpers/cli.js';

export interface BusyboxRoot {
  /** A store root holding busybox:latest. */
  root: string;
  /** An empty build context directory. */
  context: string;
  env(): { TCBUILD_ROOT: string };
}

/** Registers before/after hooks giving the enclosing suite its own store root and context. */
export function useBusyboxRoot(): BusyboxRoot {
  const state: BusyboxRoot = { root: '', context: '', env: () => ({ TCBUILD_ROOT: state.root }) };
  before(async () => {
    if (NEEDS_ROOT) return;
    state.root = await tempRoot();
    await loadFixture('busybox:latest', state.root);
    state.context = await mkdtemp(join(tmpdir(), 'tcbuild-ctx-'));
  });
  after(async () => {
    if (NEEDS_ROOT) return;
    await rm(state.root, { recursive: true, force: true });
    await rm(state.context, { recursive: true, force: true });
  });
  return state;
}
