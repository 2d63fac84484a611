import { Session } from 'node:inspector';
import { pathToFileURL } from 'node:url';
import { REPO } from './target.js';

/**
 * Coverage feedback from V8's own block coverage (what `node --experimental-test-coverage` and
 * c8 read): every block of the project's code and its dependencies that ran since the last
 * call, with its count bucketed as AFL buckets hit counts. Nothing is instrumented, so ESM
 * modules, dist/ and node_modules/ are covered as they load; the fuzzer's own code is left out.
 */
export class BlockCoverage {
  private readonly session = new Session();
  private readonly covered = `${pathToFileURL(REPO).href}/`;
  private readonly excluded = pathToFileURL(`${REPO}/dist/fuzz/`).href;
  private readonly included = new Map<string, boolean>();
  private readonly blocks = new Map<string, Range[]>();

  /** Must run before the code under test is imported: V8 counts blocks only in code compiled after. */
  start(): void {
    this.session.connect();
    this.post('Profiler.enable');
    this.post('Profiler.startPreciseCoverage', { callCount: true, detailed: true });
  }

  /** Features (block × hit-count bucket) seen since the last call; the counts start again from zero. */
  take(): string[] {
    const { result } = this.post('Profiler.takePreciseCoverage') as { result: ScriptCoverage[] };
    const features: string[] = [];
    for (const script of result) {
      if (!this.isIncluded(script.url)) continue;
      for (const { ranges } of script.functions) {
        if (ranges[0]!.count === 0) continue;
        const key = `${script.scriptId}:${ranges[0]!.startOffset}`;
        for (const block of this.blocksOf(key, ranges)) {
          const count = innermost(ranges, block).count;
          if (count > 0) features.push(`${key}:${block.startOffset}:${block.endOffset}:${bucket(count)}`);
        }
      }
    }
    return features;
  }

  /**
   * Every block of a function reported so far. V8 leaves out a block that ran as often as the
   * one around it, so a block's count is that of the innermost reported range holding it.
   */
  private blocksOf(key: string, ranges: Range[]): Range[] {
    let blocks = this.blocks.get(key);
    if (!blocks) this.blocks.set(key, (blocks = []));
    for (const range of ranges) {
      if (!blocks.some((b) => b.startOffset === range.startOffset && b.endOffset === range.endOffset)) {
        blocks.push({ startOffset: range.startOffset, endOffset: range.endOffset, count: 0 });
      }
    }
    return blocks;
  }

  private isIncluded(url: string): boolean {
    let included = this.included.get(url);
    if (included === undefined) {
      included = url.startsWith(this.covered) && !url.startsWith(this.excluded);
      this.included.set(url, included);
    }
    return included;
  }

  /** A same-thread inspector session answers synchronously. */
  private post(method: string, params?: object): unknown {
    let answer: unknown;
    let failure: Error | null = null;
    this.session.post(method, params, (err, result) => {
      failure = err;
      answer = result;
    });
    if (failure) throw failure;
    return answer;
  }
}

interface Range {
  startOffset: number;
  endOffset: number;
  count: number;
}

interface ScriptCoverage {
  scriptId: string;
  url: string;
  /** ranges[0] is the function's own; the others nest inside it. */
  functions: { ranges: Range[] }[];
}

/** The smallest of `ranges` that holds `block` (ranges[0], the function's, holds them all). */
function innermost(ranges: Range[], block: Range): Range {
  let best = ranges[0]!;
  for (const range of ranges) {
    if (
      range.startOffset <= block.startOffset &&
      block.endOffset <= range.endOffset &&
      range.endOffset - range.startOffset <= best.endOffset - best.startOffset
    ) {
      best = range;
    }
  }
  return best;
}

function bucket(count: number): number {
  if (count <= 3) return count;
  if (count < 8) return 4;
  if (count < 16) return 5;
  if (count < 32) return 6;
  if (count < 128) return 7;
  return 8;
}
