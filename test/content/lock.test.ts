// The store's lock files between real processes: one holder at a time, also right after a holder
// was killed with the lock held, and a lock file nobody holds never blocks, whatever it says.
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const lockModule = fileURLToPath(new URL('../../src/content/lock.js', import.meta.url));
const WAITERS = 12;
const ROUNDS = 6;

/** A node process running `body` (an async function body with `withLock`, `fs`, `lockPath`, `dir`, `id` in scope), its stdout by lines. */
function spawnScript(
  body: string,
  lockPath: string,
  dir: string,
  id: string,
): { child: ChildProcessWithoutNullStreams; line: () => Promise<string> } {
  const child = spawn(process.execPath, [
    '--input-type=module',
    '-e',
    `
    import fs from 'node:fs';
    import { createInterface } from 'node:readline';
    const { withLock } = await import(${JSON.stringify(lockModule)});
    const [lockPath, dir, id] = ${JSON.stringify([lockPath, dir, id])};
    const stdinLines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
    ${body}
    process.exit(0);
  `,
  ]);
  child.stderr.on('data', (d: Buffer) => process.stderr.write(d));
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  return {
    child,
    line: async () => {
      const next = await lines.next();
      if (next.done) throw new Error(`process ${id} ended before printing a line`);
      return next.value;
    },
  };
}

const exited = (child: ChildProcessWithoutNullStreams): Promise<number | null> =>
  child.exitCode !== null
    ? Promise.resolve(child.exitCode)
    : new Promise((resolve) => child.once('exit', (code) => resolve(code)));

/** Takes the lock, says so, and waits inside it until killed. */
const HOLD = `await withLock(lockPath, async () => { console.log('held'); await new Promise(() => setInterval(() => {}, 1000)); });`;

describe('lock files between processes', () => {
  let dir: string;
  let lockPath: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tcbuild-lock-'));
    lockPath = join(dir, 'store.lock');
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it(`${WAITERS} waiters released at once onto a lock whose holder was just killed: one holder at a time, each gets it once a round`, async () => {
    // Each round: wait for "go" on stdin, take the lock, mark being inside (O_EXCL), stay a while, leave.
    const waiters = Array.from({ length: WAITERS }, (_, i) =>
      spawnScript(
        `
        for (let round = 0; round < ${ROUNDS}; round++) {
          console.log('ready');
          await stdinLines.next();
          await withLock(lockPath, async () => {
            const marker = dir + '/inside';
            try { fs.writeFileSync(marker, id, { flag: 'wx' }); } catch { fs.appendFileSync(dir + '/overlaps', round + ' ' + id + ' found ' + fs.readFileSync(marker, 'utf8') + '\\n'); }
            fs.appendFileSync(dir + '/log', round + ' ' + id + '\\n');
            for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 1));
            fs.rmSync(marker, { force: true });
          });
          console.log('done');
        }
      `,
        lockPath,
        dir,
        `w${i}`,
      ),
    );
    try {
      for (let round = 0; round < ROUNDS; round++) {
        for (const w of waiters) assert.equal(await w.line(), 'ready');
        const holder = spawnScript(HOLD, lockPath, dir, 'holder');
        assert.equal(await holder.line(), 'held');
        holder.child.kill('SIGKILL');
        await exited(holder.child);
        for (const w of waiters) w.child.stdin.write('go\n');
        for (const w of waiters) assert.equal(await w.line(), 'done');
      }
      for (const w of waiters) assert.equal(await exited(w.child), 0);
    } finally {
      for (const w of waiters) w.child.kill('SIGKILL');
    }
    assert.equal(
      await readFile(join(dir, 'overlaps'), 'utf8').catch(() => ''),
      '',
      'no two processes were inside the lock at once',
    );
    const log = (await readFile(join(dir, 'log'), 'utf8')).trim().split('\n');
    for (let round = 0; round < ROUNDS; round++) {
      const entered = log
        .filter((l) => l.startsWith(`${round} `))
        .map((l) => l.split(' ')[1])
        .sort();
      assert.deepEqual(
        entered,
        Array.from({ length: WAITERS }, (_, i) => `w${i}`).sort(),
        `round ${round}: every waiter got the lock once`,
      );
    }
  });

  it('a lock file nobody holds does not block, whatever it holds: nothing, a dead pid, a live pid of another program', async () => {
    for (const content of ['', '999999999', '1']) {
      await writeFile(lockPath, content);
      const taker = spawnScript(`await withLock(lockPath, async () => console.log('took'));`, lockPath, dir, 'taker');
      assert.equal(await taker.line(), 'took', `with ${JSON.stringify(content)} in the lock file`);
      assert.equal(await exited(taker.child), 0);
    }
  });

  it('a waiter gets the lock as soon as its live holder lets go, never before', async () => {
    const holder = spawnScript(
      `await withLock(lockPath, async () => { console.log('held'); await stdinLines.next(); fs.writeFileSync(dir + '/released', ''); }); console.log('out');`,
      lockPath,
      dir,
      'holder',
    );
    assert.equal(await holder.line(), 'held');
    const waiter = spawnScript(
      `console.log('waiting'); await withLock(lockPath, async () => console.log(fs.existsSync(dir + '/released') ? 'after' : 'before'));`,
      lockPath,
      dir,
      'waiter',
    );
    assert.equal(await waiter.line(), 'waiting');
    holder.child.stdin.write('go\n');
    assert.equal(await holder.line(), 'out');
    assert.equal(await waiter.line(), 'after');
    assert.equal(await exited(waiter.child), 0);
  });
});
