import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { NEEDS_ROOT, tcbuild } from '../helpers/cli.js';
import { buildWorkspace } from '../helpers/context.js';

describe('failed builds: a clear error naming the file and line, exit ≠ 0, nothing tagged', { skip: NEEDS_ROOT }, () => {
  const workspace = buildWorkspace();
  let context: string;
  const env = () => ({ TCBUILD_ROOT: workspace.root() });

  before(async () => {
    context = await workspace.context({});
  });

  const buildWith = async (dockerfile: string) => {
    await writeFile(join(context, 'Dockerfile'), dockerfile);
    return tcbuild(['build', '-t', 'failing:1', context], env());
  };

  const assertNotTagged = async () => {
    const images = await tcbuild(['images'], env());
    assert.equal(images.code, 0, images.stderr);
    assert.doesNotMatch(images.stdout, /failing/);
  };

  it('an unknown instruction', async () => {
    const r = await buildWith('FROM busybox\nRUN true\nFOO bar\n');
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Dockerfile:3: unknown instruction: FOO/);
    assert.doesNotMatch(r.stderr, /at .*\.js:\d+/);
    await assertNotTagged();
  });

  it('a missing context directory', async () => {
    const r = await tcbuild(['build', '-t', 'failing:1', join(context, 'missing')], env());
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /build context ".*missing" is not a directory/);
    await assertNotTagged();
  });

  it('a RUN that exits 3: the command, its exit code and the tail of its output', async () => {
    const r = await buildWith('FROM busybox\nRUN echo first > /f\nRUN echo "some output"; echo "to stderr" >&2; exit 3\n');
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Dockerfile:3: RUN echo "some output"; echo "to stderr" >&2; exit 3: the command .* exited with code 3/);
    assert.match(r.stderr, /last lines of its output:\n {2}some output\n {2}to stderr/);
    await assertNotTagged();
    const again = await tcbuild(['build', '--progress', 'plain', context], env());
    assert.match(again.stderr, /#1 CACHED/, 'the step that succeeded stays cached');
  });

  it('a COPY of a file the context lacks', async () => {
    const r = await buildWith('FROM busybox\nCOPY nothere /x\n');
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Dockerfile:2: COPY nothere \/x: "nothere" not found in the build context/);
    await assertNotTagged();
  });

  it('a base image that is nowhere', async () => {
    const r = await buildWith('FROM 127.0.0.1:1/nothing:1\n');
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Dockerfile:1: image "127\.0\.0\.1:1\/nothing:1": cannot reach the registry/);
    assert.doesNotMatch(r.stderr, /internal error/);
    await assertNotTagged();
  });
});
