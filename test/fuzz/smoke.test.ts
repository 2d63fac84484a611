import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { REPO, run } from '../helpers/cli.js';

const MAIN = join(REPO, 'dist', 'fuzz', 'main.js');
const PLANTED = join(REPO, 'dist', 'test', 'fuzz', 'planted-target.js');
const TARGETS = readdirSync(join(REPO, 'dist', 'fuzz', 'targets'))
  .filter((n) => n.endsWith('.js'))
  .map((n) => n.slice(0, -3));

describe('npm run fuzz', () => {
  let out: string;
  before(async () => {
    out = await mkdtemp(join(tmpdir(), 'tcbuild-fuzz-test-'));
  });
  after(async () => {
    await rm(out, { recursive: true, force: true });
  });
  const fuzz = (args: string[], env: NodeJS.ProcessEnv = {}) =>
    run(process.execPath, [MAIN, '--out', out, ...args], { env });

  it('the smoke pass runs every target a fixed number of times without a finding', { timeout: 600_000 }, async () => {
    const result = await fuzz(['--smoke']);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.ok(TARGETS.length >= 1);
    for (const name of TARGETS)
      assert.match(result.stdout, new RegExp(`^${name} +2000 runs .* ok$`, 'm'), result.stdout);
    assert.match(result.stdout, /^no findings$/m);
  });

  it('finds a crash that only coverage feedback leads to, saves the input and replays it', {
    timeout: 300_000,
  }, async () => {
    const result = await fuzz(['--smoke', '--seed', '6', '--runs', '60000', PLANTED]);
    assert.equal(result.code, 1, result.stdout + result.stderr);
    assert.match(result.stdout, /FINDING \(crash\)\n {2}TypeError: Cannot read properties of undefined/);
    const file = /^ {2}input: (.*)$/m.exec(result.stdout)![1]!;
    assert.equal(readFileSync(file).subarray(0, 3).toString(), 'FUZ');
    assert.match(readFileSync(`${file}.txt`, 'utf8'), /TypeError/);
    const replayed = await fuzz(['--replay', file, PLANTED]);
    assert.equal(replayed.code, 1);
    assert.match(replayed.stdout, /: FINDING: TypeError/);
  });

  it('kills a target that hangs and keeps the input', { timeout: 300_000 }, async () => {
    const result = await fuzz(['--smoke', '--timeout', '10', PLANTED], { PLANTED: 'hang' });
    assert.equal(result.code, 1, result.stdout + result.stderr);
    assert.match(result.stdout, /FINDING \(hang\)\n {2}no input finished in 10 s/);
    assert.equal(readFileSync(/^ {2}input: (.*)$/m.exec(result.stdout)![1]!, 'utf8'), 'HANG');
  });

  it('kills a target whose memory grows past the limit and keeps the input', { timeout: 300_000 }, async () => {
    const result = await fuzz(['--smoke', '--rss-limit', '512', PLANTED], { PLANTED: 'memory' });
    assert.equal(result.code, 1, result.stdout + result.stderr);
    assert.match(result.stdout, /FINDING \(memory\)\n {2}the target process used \d+ MiB, more than 512 MiB/);
    assert.equal(readFileSync(/^ {2}input: (.*)$/m.exec(result.stdout)![1]!, 'utf8'), 'GROW');
  });

  it('refuses an unknown target by name', async () => {
    const result = await fuzz(['--smoke', 'no-such-target']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, new RegExp(`no fuzz target "no-such-target": the targets are ${TARGETS.join(', ')}\n`));
  });
});
