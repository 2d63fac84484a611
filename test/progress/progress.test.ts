import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { JsonProgress, PlainProgress, TtyProgress, type Progress } from '../../src/progress/progress.js';

function capture(columns?: number): { out: Writable & { columns?: number }; text(): string } {
  let text = '';
  const out = new Writable({
    write(chunk: Buffer, _enc, done) {
      text += chunk.toString();
      done();
    },
  }) as Writable & { columns?: number };
  if (columns !== undefined) out.columns = columns;
  return { out, text: () => text };
}

function buildSteps(p: Progress): void {
  p.emit({ kind: 'step-cached', id: 1, name: '[Dockerfile:2] COPY a /a' });
  p.emit({ kind: 'step-start', id: 2, name: '[Dockerfile:3] RUN make' });
  p.emit({ kind: 'step-output', id: 2, stream: 'stdout', text: 'compiling\nlinking\n' });
  p.emit({ kind: 'step-done', id: 2, name: '[Dockerfile:3] RUN make', seconds: 1.26 });
  p.close?.();
}

describe('progress renderers', () => {
  it('plain: numbered steps, CACHED, output prefixed by its step, durations', () => {
    const { out, text } = capture();
    buildSteps(new PlainProgress(out));
    assert.equal(
      text(),
      '#1 [Dockerfile:2] COPY a /a\n#1 CACHED\n#2 [Dockerfile:3] RUN make\n#2 compiling\n#2 linking\n#2 DONE 1.3s\n',
    );
  });

  it('json: one parseable event per line', () => {
    const { out, text } = capture();
    buildSteps(new JsonProgress(out));
    const events = text()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { kind: string });
    assert.deepEqual(
      events.map((e) => e.kind),
      ['step-cached', 'step-start', 'step-output', 'step-done'],
    );
  });

  it('tty: finished steps fold into one line each, whatever width the terminal reports', () => {
    for (const columns of [0, 80]) {
      const { out, text } = capture(columns);
      buildSteps(new TtyProgress(out));
      const visible = text()
        .split(/\x1b\[\d+F\x1b\[J/)
        .at(-1)!;
      assert.equal(visible, '=> [Dockerfile:3] RUN make  1.3s\n');
      assert.match(text(), /=> CACHED \[Dockerfile:2\] COPY a \/a\n/);
    }
  });
});
