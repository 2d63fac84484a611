import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { NEEDS_ROOT, tcbuild } from '../helpers/cli.js';
import { buildWorkspace } from '../helpers/context.js';

describe('failed builds: a clear error naming the file and line, exit ≠ 0, nothing tagged', {
  skip: NEEDS_ROOT,
}, () => {
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
    const r = await buildWith(
      'FROM busybox\nRUN echo first > /f\nRUN echo "some output"; echo "to stderr" >&2; exit 3\n',
    );
    assert.notEqual(r.code, 0);
    assert.match(
      r.stderr,
      /Dockerfile:3: RUN echo "some output"; echo "to stderr" >&2; exit 3: the command .* exited with code 3/,
    );
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

describe('bad flag values: one line saying what is wrong, exit 1, never "internal error"', { skip: NEEDS_ROOT }, () => {
  const workspace = buildWorkspace();
  let context: string;
  const env = () => ({ TCBUILD_ROOT: workspace.root() });

  before(async () => {
    context = await workspace.context({ Dockerfile: 'FROM busybox\nRUN true\n' });
  });

  const CASES: [string[], RegExp][] = [
    [['run', '--memory', 'abc', 'busybox', 'true'], /invalid memory size "abc"/],
    [['run', '--cpus', '-1', 'busybox', 'true'], /--cpus -1: expected a non-negative number/],
    [['run', '--ulimit', 'nofile=9:1', 'busybox', 'true'], /the soft limit is above the hard limit/],
    [['run', '--add-host', 'db', 'busybox', 'true'], /invalid --add-host "db"/],
    [['run', '--network', 'bridge0', 'busybox', 'true'], /invalid --network "bridge0"/],
    [['run', '-u', 'nosuch', 'busybox', 'true'], /unable to find user "nosuch": no matching entries in \/etc\/passwd/],
    [['run', '-u', '5000000000', 'busybox', 'true'], /uid 5000000000 is out of range/],
    [
      ['run', '-w', 'relative', 'busybox', 'true'],
      /the working directory "relative" is invalid, it needs to be an absolute path/,
    ],
    [['load', '-i', '/nonexistent/images.tar'], /cannot read \/nonexistent\/images.tar: no such file or directory/],
    [
      ['save', '-o', '/nonexistent/images.tar', 'busybox'],
      /cannot write \/nonexistent\/images.tar: no such file or directory/,
    ],
    [['build', '--memory', '12q'], /invalid memory size "12q"/],
    [['build', '--network', 'sideways'], /invalid --network "sideways"/],
    [['build', '--allow', 'network.host,everything'], /--allow everything: unknown entitlement/],
    [
      ['build', '--secret', 'id=token,src=/nonexistent/token'],
      /cannot read \/nonexistent\/token: no such file or directory/,
    ],
    [
      ['build', '--ssh', 'default=/nonexistent/agent.sock'],
      /cannot read \/nonexistent\/agent.sock: no such file or directory/,
    ],
    [['build', '--compression-level', 'abc'], /--compression-level abc: expected a whole number/],
    [['build', '--compression', 'zstd', '--compression-level', '0'], /zstd compression level must be 1-22, not 0/],
    [['build', '--add-host', 'db:not-an-ip'], /invalid --add-host "db:not-an-ip"/],
    [['run', '-e', '=x', 'busybox', 'true'], /invalid environment variable "=x"/],
    [['run', '-v', 'data:/data', 'busybox', 'true'], /"data" would be a named volume/],
    [['images', '--format', '{{.Nope}}'], /can't evaluate field Nope/],
    [['inspect', '-f', '{{.Id', 'busybox'], /an unclosed action/],
    [['build', '--iidfile', '/nonexistent/id'], /cannot write \/nonexistent\/id: no such file or directory/],
    [['build', '-o', 'type=local,dest=/proc/nope'], /cannot write \/proc\/nope: no such file or directory/],
  ];
  for (const [args, message] of CASES) {
    it(`tcbuild ${args.join(' ')}`, async () => {
      const r = await tcbuild(args[0] === 'build' ? [...args, context] : args, env());
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, new RegExp(`^error: .*${message.source}`, 'm'));
      assert.doesNotMatch(r.stderr, /internal error|this is a bug|\n\s+at /);
    });
  }
});
