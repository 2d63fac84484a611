import { createHash } from 'node:crypto';
import { ftruncateSync, mkdirSync, openSync, readdirSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { BlockCoverage } from './coverage.js';
import { Mutator, Random } from './mutate.js';
import { isExpectedError, type FuzzTarget } from './target.js';

export interface EngineOptions {
  /** Stop after this many inputs (seeds included)… */
  runs?: number;
  /** …or after this long, whichever comes first. */
  seconds?: number;
  seed: number;
  /** Where inputs that found new coverage are kept, and read back from on the next run. */
  corpusDir?: string;
  /** Where the input being run is written before it runs, for the runner to save after a hang or a crash of the process. */
  currentFile: string;
}

export interface EngineStats {
  runs: number;
  corpus: number;
  features: number;
}

export interface Finding {
  input: Buffer;
  error: string;
}

/**
 * The coverage-guided loop: run the seeds, then mutate inputs of the corpus; an input that
 * reaches a block (or a block's hit-count bucket) no earlier one did joins the corpus. Stops at
 * the first finding, as libFuzzer does.
 */
export class Engine {
  private readonly coverage = new BlockCoverage();
  private readonly seen = new Set<string>();
  private readonly corpus: Buffer[] = [];
  private readonly random: Random;
  private runs = 0;
  private currentFd: number | undefined;

  constructor(private readonly options: EngineOptions) {
    this.random = new Random(options.seed);
  }

  /** Starts coverage; call before the target's module is imported. */
  startCoverage(): void {
    this.coverage.start();
  }

  get stats(): EngineStats {
    return { runs: this.runs, corpus: this.corpus.length, features: this.seen.size };
  }

  async fuzz(target: FuzzTarget, progress: (stats: EngineStats) => Promise<void>): Promise<Finding | undefined> {
    const started = Date.now();
    const { runs = Infinity, seconds = Infinity } = this.options;
    const more = () => this.runs < runs && Date.now() - started < seconds * 1000;
    const mutator = new Mutator(this.random, target.dictionary ?? [], target.maxLength ?? 4096);
    let lastReport = Date.now();
    const report = async () => {
      if (Date.now() - lastReport < 200) return;
      lastReport = Date.now();
      await progress(this.stats);
    };

    this.coverage.take(); // what loading the target ran is not an input's
    const starting = [...(await target.seeds()), ...this.savedCorpus()];
    await progress(this.stats); // loaded: from here on, an input that does not finish is a hang
    for (const input of starting.length > 0 ? starting : [Buffer.alloc(0)]) {
      if (!more()) break;
      const finding = await this.run(target, input, true);
      if (finding) return finding;
      await report();
    }
    if (this.corpus.length === 0) this.corpus.push(Buffer.alloc(0));
    while (more()) {
      const input = mutator.mutate(this.random.pickRecent(this.corpus), () => this.random.pick(this.corpus));
      const finding = await this.run(target, input, false);
      if (finding) return finding;
      await report();
    }
    return undefined;
  }

  /** Runs one input and keeps it when it found coverage; a finding when the target failed. */
  private async run(target: FuzzTarget, input: Buffer, isSeed: boolean): Promise<Finding | undefined> {
    this.currentFd ??= openSync(this.options.currentFile, 'w');
    writeSync(this.currentFd, input, 0, input.length, 0);
    ftruncateSync(this.currentFd, input.length);
    this.runs++;
    try {
      await target.fuzz(input);
    } catch (err) {
      if (!isExpectedError(target, err)) return { input, error: describe(err) };
    }
    let fresh = false;
    for (const feature of this.coverage.take()) {
      if (!this.seen.has(feature)) {
        this.seen.add(feature);
        fresh = true;
      }
    }
    if (fresh) {
      this.corpus.push(input);
      if (!isSeed) this.save(input);
    }
    return undefined;
  }

  private savedCorpus(): Buffer[] {
    const dir = this.options.corpusDir;
    if (dir === undefined) return [];
    mkdirSync(dir, { recursive: true });
    return readdirSync(dir)
      .sort()
      .map((name) => readFileSync(join(dir, name)));
  }

  private save(input: Buffer): void {
    if (this.options.corpusDir !== undefined) writeFileSync(join(this.options.corpusDir, contentName(input)), input);
  }
}

/** A file name for an input: the start of its SHA-1, as libFuzzer names corpus files. */
export function contentName(input: Buffer): string {
  return createHash('sha1').update(input).digest('hex').slice(0, 16);
}

export function describe(err: unknown): string {
  return err instanceof Error ? (err.stack ?? `${err.name}: ${err.message}`) : `thrown non-error: ${String(err)}`;
}
