import type { Writable } from 'node:stream';
import { formatBytes } from './format-bytes.js';

/** A blob or manifest a push, pull or copy moved (or found already there). */
export interface TransferEvent {
  kind: 'blob-skip' | 'blob-mount' | 'blob-upload' | 'blob-download' | 'manifest';
  /** The repository: "localhost:5000/team/app". */
  ref: string;
  digest: string;
  bytes?: number;
}

/** Progress events of a build or transfer; renderers turn them into output. */
export type ProgressEvent =
  | TransferEvent
  | { kind: 'step-start'; id: number; name: string }
  | { kind: 'step-cached'; id: number; name: string }
  | { kind: 'step-done'; id: number; name: string; seconds: number }
  | { kind: 'step-output'; id: number; stream: 'stdout' | 'stderr'; text: string }
  | { kind: 'message'; text: string }
  | { kind: 'warning'; text: string };

export type ProgressMode = 'auto' | 'plain' | 'tty' | 'json' | 'quiet';
export const PROGRESS_MODES: readonly ProgressMode[] = ['auto', 'plain', 'tty', 'json', 'quiet'];

export interface Progress {
  emit(event: ProgressEvent): void;
  /** Flushes what a live renderer still shows; called once when the work ends. */
  close?(): void;
}

/** A transfer as a line of a build's output; blobs already there go unmentioned. */
function transferText(e: TransferEvent): string | undefined {
  const size = e.bytes === undefined ? '' : ` (${formatBytes(e.bytes)})`;
  switch (e.kind) {
    case 'blob-upload':
      return `pushed ${e.digest}${size} to ${e.ref}`;
    case 'blob-download':
      return `pulled ${e.digest}${size} from ${e.ref}`;
    case 'blob-mount':
      return `mounted ${e.digest} into ${e.ref} from another repository`;
    case 'manifest':
      return `manifest ${e.digest} of ${e.ref}`;
    case 'blob-skip':
      return undefined;
  }
}

export const silentProgress: Progress = { emit: () => undefined };

/** BuildKit's plain renderer, line by line: `#3 [Dockerfile:5] RUN make`, output prefixed by its step. */
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
      default: {
        const line = transferText(e);
        if (line) this.out.write(`${line}\n`);
      }
    }
  }
}

/** One JSON object per line, for tools: the events as they are, with a timestamp. */
export class JsonProgress implements Progress {
  constructor(private readonly out: Writable) {}

  emit(e: ProgressEvent): void {
    this.out.write(`${JSON.stringify({ time: new Date().toISOString(), ...e })}\n`);
  }
}

const TTY_OUTPUT_LINES = 6;
const REDRAW_MS = 100;

interface LiveStep {
  name: string;
  started: number;
  output: string[];
}

/**
 * A live view for terminals: running steps with their elapsed time and last output lines,
 * redrawn in place; finished steps fold into one line each.
 */
export class TtyProgress implements Progress {
  private readonly running = new Map<number, LiveStep>();
  private drawnLines = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly out: Writable & { columns?: number }) {}

  emit(e: ProgressEvent): void {
    switch (e.kind) {
      case 'step-start':
        this.running.set(e.id, { name: e.name, started: Date.now(), output: [] });
        this.timer ??= setInterval(() => this.redraw(), REDRAW_MS).unref();
        break;
      case 'step-output': {
        const step = this.running.get(e.id);
        if (step) step.output = [...step.output, ...e.text.replace(/\n$/, '').split('\n')].slice(-TTY_OUTPUT_LINES);
        break;
      }
      case 'step-cached':
        this.printAbove(`=> CACHED ${e.name}`);
        break;
      case 'step-done':
        this.running.delete(e.id);
        this.printAbove(`=> ${e.name}  ${e.seconds.toFixed(1)}s`);
        break;
      case 'message':
        this.printAbove(e.text);
        break;
      case 'warning':
        this.printAbove(`WARNING: ${e.text}`);
        break;
      default: {
        const line = transferText(e);
        if (line) this.printAbove(line);
      }
    }
    this.redraw();
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.clear();
  }

  private printAbove(line: string): void {
    this.clear();
    this.out.write(`${this.fit(line)}\n`);
  }

  private clear(): void {
    if (this.drawnLines > 0) this.out.write(`\x1b[${this.drawnLines}F\x1b[J`);
    this.drawnLines = 0;
  }

  private redraw(): void {
    this.clear();
    const lines: string[] = [];
    for (const step of this.running.values()) {
      lines.push(`=> ${step.name}  ${((Date.now() - step.started) / 1000).toFixed(1)}s`);
      for (const out of step.output) lines.push(`   ${out}`);
    }
    if (lines.length) this.out.write(`${lines.map((l) => this.fit(l)).join('\n')}\n`);
    this.drawnLines = lines.length;
  }

  private fit(line: string): string {
    const width = this.out.columns || 120;
    return line.length > width ? `${line.slice(0, width - 1)}…` : line;
  }
}

export function createProgress(mode: ProgressMode, out: Writable & { isTTY?: boolean }): Progress {
  switch (mode) {
    case 'quiet':
      return silentProgress;
    case 'json':
      return new JsonProgress(out);
    case 'tty':
      return new TtyProgress(out);
    case 'plain':
      return new PlainProgress(out);
    case 'auto':
      return out.isTTY ? new TtyProgress(out) : new PlainProgress(out);
  }
}
