import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { build } from '../../src/index.js';
import { NEEDS_ROOT, tcbuild } from '../helpers/cli.js';
import { buildWorkspace } from '../helpers/context.js';

// docker 20.10's BuildKit has no build checks: the texts compared are BuildKit's documented ones
// (frontend/dockerfile/linter/ruleset.go and the buildx report).
const FROM_AS_CASING = "FromAsCasing: 'as' and 'FROM' keywords' casing do not match";
const WARNED = 'FROM busybox as base\nENV GREETING=hello\n';
const CLEAN = 'FROM busybox AS base\nENV GREETING=hello\n';

describe('build checks through bin/tcbuild: --check, directives, warnings in a build, JSON', () => {
  const workspace = buildWorkspace();
  let context: string;
  const env = () => ({ TCBUILD_ROOT: workspace.root() });
  const withDockerfile = async (text: string) => writeFile(join(context, 'Dockerfile'), text);

  before(async () => {
    context = await workspace.context({ 'app.txt': 'app\n' });
  });

  it('--check prints each warning with its rule page and line, exits 1, and builds nothing', async () => {
    await withDockerfile(`${WARNED}MAINTAINER me\n`);
    const r = await tcbuild(['build', '--check', '-t', 'checked:1', context], env());
    assert.equal(r.code, 1, r.stderr);
    assert.equal(
      r.stdout,
      [
        'Check complete, 2 warnings have been found!',
        '',
        'WARNING: FromAsCasing - https://docs.docker.com/go/dockerfile/rule/from-as-casing/',
        "'as' and 'FROM' keywords' casing do not match",
        `${join(context, 'Dockerfile')}:1`,
        '',
        'WARNING: MaintainerDeprecated - https://docs.docker.com/go/dockerfile/rule/maintainer-deprecated/',
        'Maintainer instruction is deprecated in favor of using label',
        `${join(context, 'Dockerfile')}:3`,
        '',
      ].join('\n'),
    );
    const images = await tcbuild(['images'], env());
    assert.doesNotMatch(images.stdout, /checked/);
  });

  it('--check and --call check exit 0 on a clean Dockerfile; --call with anything else is refused', async () => {
    await withDockerfile(CLEAN);
    for (const flags of [['--check'], ['--call', 'check']]) {
      const r = await tcbuild(['build', ...flags, context], env());
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, 'Check complete, no warnings found.\n');
    }
    const bad = await tcbuild(['build', '--call', 'outline', context], env());
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /--call=outline: tcbuild knows build and check/);
  });

  it('--check judges every stage, and still names the error of a Dockerfile that does not convert', async () => {
    await withDockerfile(
      'FROM busybox AS unused\nCOPY $nothing /x\nFROM busybox\nCOPY --from=missing-stage-or-image /a /b\n',
    );
    const r = await tcbuild(['build', '--check', context], env());
    assert.equal(r.code, 1);
    assert.match(r.stdout, /WARNING: UndefinedVar .*\nUsage of undefined variable '\$nothing'\n.*Dockerfile:2\n/);
    assert.match(r.stderr, /Dockerfile:4: COPY --from=missing-stage-or-image/);
    const target = await tcbuild(['build', '--check', '--target', 'unused', context], env());
    assert.equal(target.code, 1);
    assert.match(target.stdout, /Check complete, 1 warning has been found!\n\nWARNING: UndefinedVar /);
    assert.equal(target.stderr, '', 'with a target, only the stages it needs are converted');
  });

  it('--check --progress json: one JSON object a warning on stdout', async () => {
    await withDockerfile(WARNED);
    const r = await tcbuild(['build', '--check', '--progress', 'json', context], env());
    assert.equal(r.code, 1);
    assert.deepEqual(
      r.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l)),
      [
        {
          kind: 'check',
          rule: 'FromAsCasing',
          description: "The 'as' keyword should match the case of the 'from' keyword",
          url: 'https://docs.docker.com/go/dockerfile/rule/from-as-casing/',
          file: join(context, 'Dockerfile'),
          line: 1,
          message: "'as' and 'FROM' keywords' casing do not match",
        },
      ],
    );
  });

  it('a malformed # check= directive is an input error naming it', async () => {
    await withDockerfile(`# check=skip\n${CLEAN}`);
    const r = await tcbuild(['build', '--check', context], env());
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Dockerfile: the "# check=" directive: invalid check option "skip"/);
  });

  it('the library: build({ check: true }) returns the warnings', async () => {
    await withDockerfile(`${WARNED}WORKDIR app\n`);
    const { warnings, error } = await build({ context, root: workspace.root(), check: true });
    assert.equal(error, undefined);
    assert.deepEqual(
      warnings.map((w) => [w.rule, w.file, w.line]),
      [
        ['FromAsCasing', join(context, 'Dockerfile'), 1],
        ['WorkdirRelativePath', join(context, 'Dockerfile'), 3],
      ],
    );
  });

  describe('in a build', { skip: NEEDS_ROOT }, () => {
    it('prints each warning as BuildKit does while building, and a summary with file:line after', async () => {
      await withDockerfile(WARNED);
      const r = await tcbuild(['build', '--progress', 'plain', '-t', 'warned:1', context], env());
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, new RegExp(`^WARN: ${FROM_AS_CASING} \\(line 1\\)$`, 'm'));
      assert.ok(
        r.stderr.includes(`1 warning found:\n - ${join(context, 'Dockerfile')}:1: ${FROM_AS_CASING}\n`),
        r.stderr,
      );
    });

    it('--progress json carries each warning as an event', async () => {
      await withDockerfile(WARNED);
      const r = await tcbuild(['build', '--progress', 'json', context], env());
      assert.equal(r.code, 0, r.stderr);
      const lines = r.stderr.split('\n').filter((l) => l.startsWith('{'));
      const events = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
      const checks = events.filter((e) => e['kind'] === 'check');
      assert.equal(checks.length, 1);
      assert.equal(checks[0]!['rule'], 'FromAsCasing');
      assert.equal(checks[0]!['line'], 1);
      assert.equal(checks[0]!['url'], 'https://docs.docker.com/go/dockerfile/rule/from-as-casing/');
    });

    it('# check=skip=… silences a rule; error=true fails the build naming the rules, nothing tagged', async () => {
      await withDockerfile(`# check=skip=FromAsCasing\n${WARNED}`);
      const skipped = await tcbuild(['build', '--progress', 'plain', context], env());
      assert.equal(skipped.code, 0, skipped.stderr);
      assert.doesNotMatch(skipped.stderr, /WARN/);

      await withDockerfile(`# check=error=true\n${WARNED}`);
      const failed = await tcbuild(['build', '--progress', 'plain', '-t', 'strict:1', context], env());
      assert.equal(failed.code, 1);
      assert.match(failed.stderr, /WARN: FromAsCasing/);
      assert.match(failed.stderr, /lint violation found for rules: FromAsCasing/);
      assert.match(failed.stderr, /# check=skip=FromAsCasing/, 'the hint says how to skip it');
      const images = await tcbuild(['images'], env());
      assert.doesNotMatch(images.stdout, /strict/);
    });

    it('the BUILDKIT_DOCKERFILE_CHECK build-arg takes the place of the directive, and is consumed', async () => {
      await withDockerfile(`# check=error=true\n${WARNED}`);
      const r = await tcbuild(
        ['build', '--progress', 'plain', '--build-arg', 'BUILDKIT_DOCKERFILE_CHECK=skip=all', context],
        env(),
      );
      assert.equal(r.code, 0, r.stderr);
      assert.doesNotMatch(r.stderr, /WARN/);
      await withDockerfile(WARNED);
      const strict = await tcbuild(['build', '--build-arg', 'BUILDKIT_DOCKERFILE_CHECK=error=true', context], env());
      assert.equal(strict.code, 1);
      assert.match(strict.stderr, /lint violation found for rules: FromAsCasing/);
    });
  });
});
