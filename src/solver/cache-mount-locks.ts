/**
 * Who uses which cache mount id in this process. `shared` users share one directory; `locked`
 * ones take turns on it; a `private` user gets a directory of its own (slot > 0) while the
 * shared one is busy.
 */
export class CacheMountLocks {
  private readonly users = new Map<string, number>();
  private readonly queues = new Map<string, Promise<void>>();
  private readonly privateSlots = new Map<string, Set<number>>();

  async acquire(id: string, sharing: 'shared' | 'private' | 'locked'): Promise<{ slot: number; release: () => void }> {
    if (sharing === 'private' && (this.users.get(id) ?? 0) > 0) return this.privateSlot(id);
    if (sharing === 'locked') {
      const previous = this.queues.get(id) ?? Promise.resolve();
      let unlock!: () => void;
      const turn = new Promise<void>((resolve) => (unlock = resolve));
      this.queues.set(
        id,
        previous.then(() => turn),
      );
      await previous;
      this.use(id, +1);
      return { slot: 0, release: once(() => (this.use(id, -1), unlock())) };
    }
    this.use(id, +1);
    return { slot: 0, release: once(() => this.use(id, -1)) };
  }

  private privateSlot(id: string): { slot: number; release: () => void } {
    const taken = this.privateSlots.get(id) ?? new Set<number>();
    this.privateSlots.set(id, taken);
    let slot = 1;
    while (taken.has(slot)) slot++;
    taken.add(slot);
    return { slot, release: once(() => taken.delete(slot)) };
  }

  private use(id: string, delta: number): void {
    this.users.set(id, (this.users.get(id) ?? 0) + delta);
  }
}

function once(fn: () => void): () => void {
  let done = false;
  return () => {
    if (!done) fn();
    done = true;
  };
}
