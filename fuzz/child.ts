import { existsSync, readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { Engine, describe, type EngineOptions, type EngineStats, type Finding } from './engine.js';
import type { FuzzTarget } from './target.js';

/** What the runner (main.ts) sends a child: one target to fuzz. */
export interface ChildRequest extends EngineOptions {
  /** The target's compiled module. */
  module: string;
}

export type ChildMessage =
  | { kind: 'progress'; stats: EngineStats }
  | { kind: 'done'; stats: EngineStats; finding?: { input: string; error: string } };

/**
 * One target in its own process, so that a hang, a native crash or runaway memory is caught by
 * the runner from outside and the input that caused it is still on disk (`currentFile`).
 */
process.once('message', (request: ChildRequest) => {
  void fuzzOne(request);
});

async function fuzzOne(request: ChildRequest): Promise<void> {
  const engine = new Engine(request);
  const send = (message: ChildMessage) => new Promise<void>((resolve) => process.send!(message, () => resolve()));
  const finish = async (finding: Finding | undefined) => {
    await send({
      kind: 'done',
      stats: engine.stats,
      ...(finding ? { finding: { input: finding.input.toString('base64'), error: finding.error } } : {}),
    });
    process.disconnect();
    process.exit(0);
  };
  // A failure outside the awaited call (a stray stream error, a late rejection) is still a finding.
  const stray = (err: unknown) => {
    const input = existsSync(request.currentFile) ? readFileSync(request.currentFile) : Buffer.alloc(0);
    void finish({
      input,
      error: `${engine.stats.runs === 0 ? 'before the first input' : 'outside the fuzz call'}: ${describe(err)}`,
    });
  };
  process.on('uncaughtException', stray);
  process.on('unhandledRejection', stray);

  engine.startCoverage();
  const { target } = (await import(pathToFileURL(request.module).href)) as { target: FuzzTarget };
  const finding = await engine.fuzz(target, async (stats) => {
    await send({ kind: 'progress', stats });
    await new Promise((resolve) => setImmediate(resolve));
  });
  await finish(finding);
}
