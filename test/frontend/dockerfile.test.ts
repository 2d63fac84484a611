import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { convert, type ConvertOptions } from '../../src/frontend/convert.js';
import { DockerfileError } from '../../src/frontend/errors.js';
import { toStages } from '../../src/frontend/instructions.js';
import { parseDockerfile } from '../../src/frontend/parse.js';
import { vertexDigest, type ExecVertex, type Vertex } from '../../src/graph/vertex.js';
import { sha256 } from '../../src/image/digest.js';
import type { ImageConfig } from '../../src/image/types.js';

const stagesOf = (text: string) => toStages(parseDockerfile(text, 'Dockerfile'));

const baseConfig: ImageConfig = {
  architecture: 'amd64',
  os: 'linux',
  config: { Env: ['PATH=/usr/bin:/bin'], Cmd: ['sh'] },
  rootfs: { type: 'layers', diff_ids: [sha256('base layer')] },
  history: [{ created_by: 'base' }],
};

function options(overrides: Partial<ConvertOptions> = {}): ConvertOptions & { warnings: string[]; resolved: string[] } {
  const warnings: string[] = [];
  const resolved: string[] = [];
  return {
    buildArgs: new Map(),
    target: undefined,
    platform: { os: 'linux', architecture: 'arm64', variant: 'v8' },
    buildPlatform: { os: 'linux', architecture: 'amd64' },
    context: { op: 'context', name: 'context', dir: '/ctx', excludes: [] },
    sourceDateEpoch: 0,
    network: 'private',
    warn: (m) => warnings.push(m),
    resolveImage: async (ref, platform) => {
      resolved.push(ref);
      return { vertex: { op: 'image', ref, manifest: sha256(ref), platform }, config: structuredClone(baseConfig) };
    },
    warnings,
    resolved,
    ...overrides,
  };
}

function chain(v: Vertex): Vertex[] {
  return v.op === 'scratch' || v.op === 'image' || v.op === 'git' ? [v] : [...chain(v.input), v];
}

describe('Dockerfile parsing', () => {
  it('joins continuations, drops comment lines inside them, and reads flags', () => {
    const [stage] = stagesOf('FROM busybox\nRUN --network=none echo a \\\n  # note\n  && echo b\n').stages;
    const run = stage!.instructions[0]!;
    assert.equal(run.kind, 'RUN');
    assert.equal(run.line, 2);
    if (run.kind !== 'RUN') return;
    assert.deepEqual(run.command, { form: 'shell', command: 'echo a   && echo b' });
    assert.equal(run.network, 'none');
  });

  it('reads exec forms, heredocs and both ENV forms', () => {
    const { stages } = stagesOf('FROM x\nCMD ["a", "b c"]\nENV K v w\nENV A=1 B="x y"\nCOPY <<EOT /f\nline $A\nEOT\n');
    const [cmd, legacy, env, copy] = stages[0]!.instructions;
    assert.deepEqual(cmd!.kind === 'CMD' && cmd.command, { form: 'exec', args: ['a', 'b c'] });
    assert.deepEqual(legacy!.kind === 'ENV' && legacy.pairs, [{ key: 'K', value: 'v w' }]);
    assert.deepEqual(env!.kind === 'ENV' && env.pairs, [
      { key: 'A', value: '1' },
      { key: 'B', value: '"x y"' },
    ]);
    assert.deepEqual(copy!.kind === 'COPY' && copy.heredocs, [
      { name: 'EOT', content: 'line $A\n', expand: true, chomp: false },
    ]);
  });

  it('names the file and line of an unknown instruction', () => {
    assert.throws(
      () => stagesOf('FROM x\n\nFOO bar\n'),
      (err: unknown) =>
        err instanceof DockerfileError && err.line === 3 && /Dockerfile:3: unknown instruction: FOO/.test(err.message),
    );
  });

  it('rejects unknown flags, a missing FROM, and SHELL outside JSON form', () => {
    assert.throws(() => stagesOf('FROM x\nCOPY --bogus=1 a b\n'), /Dockerfile:2: unknown flag: --bogus/);
    assert.throws(() => stagesOf('RUN true\n'), /RUN before the first FROM/);
    assert.throws(() => stagesOf('FROM x\nSHELL /bin/bash\n'), /SHELL requires the arguments to be in JSON form/);
  });
});

describe('Dockerfile to graph and image config', () => {
  it('scopes ARGs and ENV as BuildKit does, and records history', async () => {
    const opts = options({
      buildArgs: new Map([
        ['V', 'from-cli'],
        ['UNUSED', 'x'],
      ]),
    });
    const plan = await convert(
      stagesOf(
        'ARG BASE=busybox\nFROM ${BASE}\nARG V=default\nENV E=$V\nWORKDIR /app\nRUN echo $E\nUSER 1000\nCMD ["run"]\n',
      ),
      opts,
    );
    assert.deepEqual(opts.resolved, ['busybox']);
    assert.deepEqual(plan.config.config.Env, ['PATH=/usr/bin:/bin', 'E=from-cli']);
    assert.equal(plan.config.config.WorkingDir, '/app');
    assert.equal(plan.config.config.User, '1000');
    assert.deepEqual(plan.config.config.Cmd, ['run']);
    assert.equal(plan.config.architecture, 'arm64');
    assert.deepEqual(
      plan.config.history!.slice(1).map((h) => [h.created_by, h.empty_layer ?? false]),
      [
        ['ARG V=from-cli', true],
        ['ENV E=from-cli', true],
        ['WORKDIR /app', false],
        ['RUN |1 V=from-cli /bin/sh -c echo $E # buildkit', false],
        ['USER 1000', true],
        ['CMD ["run"]', true],
      ],
    );
    const ops = chain(plan.vertex).map((v) => v.op);
    assert.deepEqual(ops, ['image', 'mkdir', 'exec']);
    const exec = chain(plan.vertex)[2] as ExecVertex;
    assert.deepEqual(exec.env, ['PATH=/usr/bin:/bin', 'E=from-cli', 'V=from-cli']);
    assert.equal(exec.cwd, '/app');
    assert.deepEqual(opts.warnings, ['build-arg "UNUSED" was given but not consumed by any ARG in the Dockerfile']);
  });

  it('resets an inherited CMD when ENTRYPOINT is set, and knows the platform ARGs', async () => {
    const plan = await convert(
      stagesOf('FROM scratch\nARG TARGETARCH\nARG BUILDARCH\nENV T=$TARGETARCH B=$BUILDARCH\nENTRYPOINT ["x"]\n'),
      options(),
    );
    assert.deepEqual(plan.config.config.Env?.slice(1), ['T=arm64', 'B=amd64']);
    assert.equal(plan.config.config.Cmd, null);
  });

  it("gives a RUN without --network the build's network, and carries --network and --security into the graph", async () => {
    const text =
      'FROM scratch\nRUN a\nRUN --network=default b\nRUN --network=none c\nRUN --network=host --security=insecure d\n';
    const execs = async (network: 'private' | 'host' | 'none') => {
      const modes: string[] = [];
      for (let v = (await convert(stagesOf(text), options({ network }))).vertex; v.op === 'exec'; v = v.input)
        modes.unshift(`${v.network}/${v.security}`);
      return modes;
    };
    assert.deepEqual(await execs('private'), ['private/sandbox', 'private/sandbox', 'none/sandbox', 'host/insecure']);
    assert.deepEqual(await execs('none'), ['none/sandbox', 'none/sandbox', 'none/sandbox', 'host/insecure']);
    await assert.rejects(
      convert(stagesOf('FROM scratch\nRUN --network=bridge x\n'), options()),
      /Dockerfile:2: unsupported RUN --network=bridge: use default, host or none/,
    );
  });

  it('gives a stage from scratch WorkingDir "/", as BuildKit\'s empty image', async () => {
    const plan = await convert(stagesOf('FROM scratch\nCOPY x /x\n'), options());
    assert.equal(plan.config.config.WorkingDir, '/');
  });

  it("reads the first JSON array of an exec form and ignores what follows it, as BuildKit's parser", async () => {
    const plan = await convert(
      stagesOf(
        'FROM scratch\nENTRYPOINT ["/bin/a", "b]"] # the entrypoint\nCMD ["c"] trailing\nSHELL ["/bin/bash", "-c"] x\nRUN ["echo", "[x]"] y\n',
      ),
      options(),
    );
    assert.deepEqual(plan.config.config.Entrypoint, ['/bin/a', 'b]']);
    assert.deepEqual(plan.config.config.Cmd, ['c']);
    assert.deepEqual(plan.config.config.Shell, ['/bin/bash', '-c']);
    assert.deepEqual((plan.vertex as ExecVertex).args, ['echo', '[x]']);
    const shellForm = await convert(stagesOf('FROM scratch\nCMD [not json] x\n'), options());
    assert.deepEqual(shellForm.config.config.Cmd, ['/bin/sh', '-c', '[not json] x']);
  });

  it('expands with the escape character of the # escape= directive', async () => {
    const plan = await convert(stagesOf('# escape=`\nFROM scratch\nENV P=C:\\path\\to Q=a`$b R="x`"y"\n'), options());
    assert.deepEqual(plan.config.config.Env?.slice(1), ['P=C:\\path\\to', 'Q=a$b', 'R=x"y']);
  });

  it('runs a RUN heredoc that starts with #! as a file mounted in /dev/pipes, its text in the cache key', async () => {
    const execOf = async (script: string) =>
      (await convert(stagesOf(`FROM a\nRUN <<EOF\n${script}EOF\n`), options())).vertex as ExecVertex;
    const exec = await execOf('#!/bin/sh\necho $0\n');
    assert.deepEqual(exec.args, ['/bin/sh', '-c', '/dev/pipes/EOF']);
    const [mount] = exec.mounts;
    assert.ok(
      mount?.type === 'bind' && mount.target === '/dev/pipes' && !mount.readwrite && mount.source.op === 'copy',
    );
    assert.deepEqual(mount.source.op === 'copy' && [mount.source.source, mount.source.chmod], [
      { op: 'inline', files: [{ name: 'EOF', content: '#!/bin/sh\necho $0\n' }] },
      '0755',
    ]);
    assert.notEqual(vertexDigest(exec), vertexDigest(await execOf('#!/bin/sh\necho other\n')));
    assert.deepEqual(
      (await execOf('echo $0\n')).args,
      ['/bin/sh', '-c', 'echo $0\n'],
      'without #! the text goes to the shell',
    );
  });

  it('builds only what the target stage needs and wires COPY --from', async () => {
    const opts = options();
    const plan = await convert(
      stagesOf('FROM a AS one\nRUN one\nFROM b AS unused\nFROM c\nCOPY --from=one /x /y\n'),
      opts,
    );
    assert.deepEqual(opts.resolved, ['c', 'a']);
    const copy = plan.vertex;
    assert.equal(copy.op, 'copy');
    if (copy.op === 'copy') assert.equal(copy.source.op, 'exec');
  });

  it('reports a missing target and a bad expansion with the file and line', async () => {
    await assert.rejects(
      convert(stagesOf('FROM a AS x\n'), options({ target: 'nope' })),
      /target stage "nope" could not be found/,
    );
    await assert.rejects(convert(stagesOf('FROM a\nENV X=${Y:?unset}\n'), options()), /Dockerfile:2: failed to expand/);
  });
});
