import type { Writable } from 'node:stream';

/** Progress events of a build or transfer; renderers turn them into output. */
export type ProgressEvent =
  | { kind: 'step-start'; id: number; name: string }
  | { kind: 'step-cached'; id: number; name: string }
  | { kind: 'step-done'; id: number; name: string; seconds: number }
  | { kind: 'step-output'; id: number; stream: 'stdout' | 'stderr'; text: string }
  | { kind: 'message'; text: string }
  | { kind: 'warning'; text: string };

export type ProgressMode = 'auto' | 'plain' | 'quiet' | 'tty';

export interface Progress {
  emit(event: ProgressEvent): void;
}

export const silentProgress: Progress = { emit: () => undefined };

/** BuildKit's plain renderer, line by line: `#3 [2/5] RUN make`, output prefixed by its step. */
export class PlainProgress implements Progress {
  constructor(private readonly out: Writable) {}

  emit(e: ProgressEvent): void {
    switch (e.kind) {
      case 'step-start':
        this.out.write(`#${e.id} ${e.name}\n`);
        return;
      case 'step-cached':
        this.out.write(`#${e.id} ${e.name}\n#${e.id} CACHED\n`);
        return;
      case 'step-done':
        this.out.write(`#${e.id} DONE ${e.seconds.toFixed(1)}s\n`);
        return;
      case 'step-output':
        for (const line of e.text.replace(/\n$/, '').split('\n')) this.out.write(`#${e.id} ${line}\n`);
        return;
      case 'message':
        this.out.write(`${e.text}\n`);
        return;
      case 'warning':
        this.out.write(`WARNING: ${e.text}\n`);
        return;
    }
  }
}

export function createProgress(mode: ProgressMode, out: Writable): Progress {
  return mode === 'quiet' ? silentProgress : new PlainProgress(out);
}
