import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidInputError } from '../../src/errors.js';
import { BuildChecks, parseCheckConfig, type BuildCheckWarning } from '../../src/frontend/checks/build-checks.js';
import { RULE_NAMES, type RuleName } from '../../src/frontend/checks/rules.js';
import { convert, type BuildPlan, type ConvertOptions } from '../../src/frontend/convert.js';
import { toStages } from '../../src/frontend/instructions.js';
import { parseDockerfile } from '../../src/frontend/parse.js';
import { sha256 } from '../../src/image/digest.js';
import type { ImageConfig, Platform } from '../../src/image/types.js';

/** Images the stand-in registry knows: "arm-only" exists for linux/arm64 alone; others for any platform asked. */
function imageConfig(ref: string, platform: Platform): ImageConfig {
  const arm = ref === 'arm-only';
  return {
    architecture: arm ? 'arm64' : platform.architecture,
    os: 'linux',
    config: { Env: ['PATH=/usr/bin:/bin', 'GOPATH=/go'] },
    rootfs: { type: 'layers', diff_ids: [sha256(ref)] },
    history: [],
  };
}

interface CheckRun {
  buildArgs?: Record<string, string>;
  ignore?: string[];
  target?: string;
  allStages?: boolean;
}

async function converted(
  dockerfile: string,
  run: CheckRun = {},
): Promise<{ warnings: BuildCheckWarning[]; plan: BuildPlan }> {
  const parsed = parseDockerfile(dockerfile, 'Dockerfile');
  const checks = new BuildChecks('Dockerfile', parseCheckConfig(parsed.check, 'Dockerfile'));
  const options: ConvertOptions = {
    buildArgs: new Map(Object.entries(run.buildArgs ?? {})),
    target: run.target,
    platform: { os: 'linux', architecture: 'amd64' },
    buildPlatform: { os: 'linux', architecture: 'amd64' },
    context: { op: 'context', name: 'context', dir: '/ctx', excludes: run.ignore ?? [] },
    sourceDateEpoch: 0,
    network: 'private',
    warn: () => undefined,
    resolveImage: async (ref, platform) => ({
      vertex: { op: 'image', ref, manifest: sha256(ref), platform },
      config: imageConfig(ref, platform),
    }),
    checks,
    allStages: run.allStages ?? false,
  };
  const plan = await convert(toStages(parsed), options);
  return { warnings: checks.sorted(), plan };
}

async function warningsOf(dockerfile: string, run: CheckRun = {}): Promise<BuildCheckWarning[]> {
  return (await converted(dockerfile, run)).warnings;
}

interface RuleCase {
  rule: RuleName;
  triggers: string;
  /** [line, message] of each warning of the rule. */
  expected: [number, string][];
  clean: string;
  run?: CheckRun;
}

const CASES: RuleCase[] = [
  {
    rule: 'JSONArgsRecommended',
    triggers: 'FROM scratch\nCMD echo hi\nENTRYPOINT my-app --serve\n',
    expected: [
      [2, 'JSON arguments recommended for CMD to prevent unintended behavior related to OS signals'],
      [3, 'JSON arguments recommended for ENTRYPOINT to prevent unintended behavior related to OS signals'],
    ],
    clean: 'FROM scratch AS a\nCMD ["echo", "hi"]\nFROM scratch\nSHELL ["/bin/sh", "-c"]\nENTRYPOINT my-app --serve\n',
  },
  {
    rule: 'StageNameCasing',
    triggers: 'FROM scratch AS BadStageName\n',
    expected: [[1, "Stage name 'BadStageName' should be lowercase"]],
    clean: 'FROM scratch AS good-name\n',
  },
  {
    rule: 'FromAsCasing',
    triggers: 'FROM scratch as base\nfrom base AS next\n',
    expected: [
      [1, "'as' and 'FROM' keywords' casing do not match"],
      [2, "'AS' and 'from' keywords' casing do not match"],
    ],
    clean: 'from scratch as base\nFROM base AS next\nFrom base as mixed\n',
  },
  {
    rule: 'UndefinedVar',
    triggers: 'FROM scratch\nARG DIR_ASSETS=assets\nCOPY $DIR_ASSET /x\nENV A=1 B=$A\nWORKDIR /$NOWHERE\n',
    expected: [
      [3, "Usage of undefined variable '$DIR_ASSET' (did you mean $DIR_ASSETS?)"],
      [4, "Usage of undefined variable '$A'"],
      [5, "Usage of undefined variable '$NOWHERE'"],
    ],
    // An ARG without a value, the base image's ENV, an ENV set before, and RUN/CMD (the shell expands those).
    clean:
      'FROM golang\nARG NOVALUE\nENV A=1\nCOPY $A $NOVALUE $GOPATH /x\nRUN echo $UNSET\nCMD echo $UNSET\nEXPOSE $PORT\n',
  },
  {
    rule: 'UndefinedArgInFrom',
    triggers: 'ARG tag=latest\nARG MY_ARCH=amd64\nFROM busybox:${tag}${version}$MYARCH AS b\n',
    expected: [
      [3, "FROM argument 'version' is not declared"],
      [3, "FROM argument 'MYARCH' is not declared (did you mean MY_ARCH?)"],
    ],
    clean: 'ARG VERSION\nFROM --platform=$BUILDPLATFORM busybox:${VERSION:-latest}\n',
  },
  {
    rule: 'DuplicateStageName',
    triggers: 'FROM scratch AS b\nFROM scratch AS B\n',
    expected: [[2, 'Duplicate stage name "b", stage names should be unique']],
    clean: 'FROM scratch AS a\nFROM a AS b\n',
  },
  {
    rule: 'ReservedStageName',
    triggers: 'FROM busybox AS scratch\nFROM busybox AS context\n',
    expected: [
      [1, 'Stage name should not use the same name as reserved stage "scratch"'],
      [2, 'Stage name should not use the same name as reserved stage "context"'],
    ],
    clean: 'FROM busybox AS builder\n',
  },
  {
    rule: 'WorkdirRelativePath',
    triggers: 'FROM busybox\nWORKDIR app/\nWORKDIR sub\n',
    expected: [[2, 'Relative workdir "app/" can have unexpected results if the base image changes']],
    clean: 'FROM busybox\nWORKDIR /app\nWORKDIR sub\n',
  },
  {
    rule: 'SecretsUsedInArgOrEnv',
    triggers: 'FROM scratch\nARG SECRET_PASSPHRASE\nARG auth\nENV git_key=x SUPER_Secret=y\n',
    expected: [
      [2, 'Do not use ARG or ENV instructions for sensitive data (ARG "SECRET_PASSPHRASE")'],
      [3, 'Do not use ARG or ENV instructions for sensitive data (ARG "auth")'],
      [4, 'Do not use ARG or ENV instructions for sensitive data (ENV "git_key")'],
      [4, 'Do not use ARG or ENV instructions for sensitive data (ENV "SUPER_Secret")'],
    ],
    clean: 'FROM scratch\nARG PUBLIC_KEY\nARG KEYBOARD\nENV KEY_FILE=/run/k TOKEN_VERSION=2 AUTHOR=me\n',
  },
  {
    rule: 'LegacyKeyValueFormat',
    triggers: 'FROM scratch\nENV key value\nLABEL maintainer me\n',
    expected: [
      [2, '"ENV key=value" should be used instead of legacy "ENV key value" format'],
      [3, '"LABEL key=value" should be used instead of legacy "LABEL key value" format'],
    ],
    clean: 'FROM scratch\nENV key=value\nLABEL maintainer=me\n',
  },
  {
    rule: 'InvalidDefaultArgInFrom',
    triggers: 'ARG IMAGE\nFROM $IMAGE\n',
    expected: [[2, 'Default value for ARG $IMAGE results in empty or invalid base image name']],
    clean: 'ARG IMAGE=busybox\nFROM $IMAGE\n',
    run: { buildArgs: { IMAGE: 'busybox' } },
  },
  {
    rule: 'CopyIgnoredFile',
    triggers: 'FROM scratch\nCOPY Dockerfile /\nADD ./secrets/key /k\n',
    expected: [
      [2, 'Attempting to Copy file "Dockerfile" that is excluded by .dockerignore'],
      [3, 'Attempting to Add file "secrets/key" that is excluded by .dockerignore'],
    ],
    clean: 'FROM scratch AS a\nCOPY . /\nCOPY app.js /\nFROM scratch\nCOPY --from=a /Dockerfile /\n',
    run: { ignore: ['Dockerfile', 'secrets'] },
  },
  {
    rule: 'RedundantTargetPlatform',
    triggers: 'FROM --platform=$TARGETPLATFORM scratch\nFROM --platform=${TARGETPLATFORM} scratch\n',
    expected: [
      [1, 'Setting platform to predefined $TARGETPLATFORM in FROM is redundant as this is the default behavior'],
      [2, 'Setting platform to predefined ${TARGETPLATFORM} in FROM is redundant as this is the default behavior'],
    ],
    clean: 'FROM --platform=$BUILDPLATFORM scratch\nFROM --platform=linux/${TARGETARCH} scratch\n',
  },
  {
    rule: 'MultipleInstructionsDisallowed',
    triggers:
      'FROM scratch\nENTRYPOINT ["/a"]\nCMD ["/a"]\nHEALTHCHECK CMD ["/a"]\nENTRYPOINT ["/b"]\nCMD ["/b"]\nHEALTHCHECK CMD ["/b"]\n',
    expected: [
      [
        2,
        'Multiple ENTRYPOINT instructions should not be used in the same stage because only the last one will be used',
      ],
      [3, 'Multiple CMD instructions should not be used in the same stage because only the last one will be used'],
      [
        4,
        'Multiple HEALTHCHECK instructions should not be used in the same stage because only the last one will be used',
      ],
    ],
    clean: 'FROM scratch AS a\nCMD ["/a"]\nFROM a\nCMD ["/b"]\n',
  },
  {
    rule: 'ExposeProtoCasing',
    triggers: 'FROM scratch\nEXPOSE 80/TcP 8080/TCP\n',
    expected: [
      [2, "Defined protocol '80/TcP' in EXPOSE instruction should be lowercase"],
      [2, "Defined protocol '8080/TCP' in EXPOSE instruction should be lowercase"],
    ],
    clean: 'FROM scratch\nEXPOSE 80/tcp 53/udp 9000\n',
  },
  {
    rule: 'ExposeInvalidFormat',
    triggers: 'FROM scratch\nEXPOSE 127.0.0.1:80:80\nEXPOSE 5000:5000\n',
    expected: [
      [2, "EXPOSE instruction should not define an IP address or host-port mapping, found '127.0.0.1:80:80'"],
      [3, "EXPOSE instruction should not define an IP address or host-port mapping, found '5000:5000'"],
    ],
    clean: 'FROM scratch\nEXPOSE 80 5000/udp :8080\n',
  },
  {
    rule: 'MaintainerDeprecated',
    triggers: 'FROM scratch\nMAINTAINER me <me@example.com>\n',
    expected: [[2, 'Maintainer instruction is deprecated in favor of using label']],
    clean: 'FROM scratch\nLABEL org.opencontainers.image.authors="me@example.com"\n',
  },
  {
    rule: 'ConsistentInstructionCasing',
    triggers: 'FROM scratch\ncopy a /b\nCOPY c /d\nFrom scratch\n',
    expected: [
      [2, "Command 'copy' should match the case of the command majority (uppercase)"],
      [4, "Command 'From' should match the case of the command majority (uppercase)"],
    ],
    clean: 'from scratch\ncopy a /b\nenv a=b\n',
  },
  {
    rule: 'FromPlatformFlagConstDisallowed',
    triggers: 'FROM --platform=linux/amd64 scratch AS builder\n',
    expected: [[1, 'FROM --platform flag should not use constant value "linux/amd64"']],
    clean: 'FROM --platform=linux/amd64 scratch AS build-amd64\nFROM --platform=$BUILDPLATFORM scratch AS tools\n',
  },
  {
    rule: 'InvalidBaseImagePlatform',
    triggers: 'FROM arm-only\n',
    expected: [
      [1, 'Base image arm-only was pulled with platform "linux/arm64", expected "linux/amd64" for current build'],
    ],
    clean: 'FROM busybox\n',
  },
];

describe('build checks: each rule, on a Dockerfile that triggers it and one that does not', () => {
  it('covers every rule', () => {
    assert.deepEqual([...new Set(CASES.map((c) => c.rule))].sort(), [...RULE_NAMES].sort());
  });

  for (const c of CASES) {
    it(c.rule, async () => {
      const found = (await warningsOf(c.triggers, c.run)).filter((w) => w.rule === c.rule);
      assert.deepEqual(
        found.map((w) => [w.line, w.message]),
        c.expected,
      );
      for (const w of found) {
        assert.equal(w.file, 'Dockerfile');
        assert.ok(w.description.length > 0);
        if (c.rule !== 'InvalidBaseImagePlatform')
          assert.match(w.url ?? '', /^https:\/\/docs\.docker\.com\/go\/dockerfile\/rule\/[a-z-]+\/$/);
      }
      const clean = await warningsOf(c.clean, c.run);
      assert.deepEqual(
        clean.filter((w) => w.rule === c.rule),
        [],
      );
    });
  }
});

describe('build checks: scope and configuration', () => {
  it('judges only the stages a build needs, and every stage with allStages (--check), as BuildKit', async () => {
    const dockerfile = 'FROM scratch AS first\nCOPY $foo .\n\nFROM scratch AS second\nCOPY $bar .\n';
    const build = await warningsOf(dockerfile);
    assert.deepEqual(
      build.map((w) => [w.line, w.rule]),
      [[5, 'UndefinedVar']],
    );
    const all = await warningsOf(dockerfile, { allStages: true });
    assert.deepEqual(
      all.map((w) => [w.line, w.rule]),
      [
        [2, 'UndefinedVar'],
        [5, 'UndefinedVar'],
      ],
    );
  });

  it('honours # check=skip=… and skip=all, and reads error=true', async () => {
    const body = 'FROM scratch as base\nMAINTAINER me\nENV k v\n';
    assert.equal((await warningsOf(body)).length, 3);
    const skipped = await warningsOf(`# check=skip=FromAsCasing, LegacyKeyValueFormat\n${body}`);
    assert.deepEqual(
      skipped.map((w) => w.rule),
      ['MaintainerDeprecated'],
    );
    assert.deepEqual(await warningsOf(`# check=skip=all\n${body}`), []);
    assert.deepEqual(parseCheckConfig('skip=A,B;error=true', 'x'), {
      skip: new Set(['A', 'B']),
      skipAll: false,
      error: true,
    });
  });

  it('with error=true, fails naming the rules; without warnings, does not', () => {
    const checks = new BuildChecks('Dockerfile', parseCheckConfig('error=true', 'x'));
    assert.equal(checks.violation(), undefined);
    checks.report({ name: 'MaintainerDeprecated', description: 'd', url: undefined, format: () => 'm' }, 2);
    const err = checks.violation();
    assert.ok(err instanceof InvalidInputError);
    assert.equal(err.message, 'lint violation found for rules: MaintainerDeprecated');
  });

  it('refuses a malformed check option, naming where it was read', () => {
    assert.throws(
      () => parseCheckConfig('skip', 'Dockerfile:1'),
      (err: unknown) => err instanceof InvalidInputError && err.message === 'Dockerfile:1: invalid check option "skip"',
    );
    assert.throws(() => parseCheckConfig('error=maybe', 'x'), /error= takes true or false/);
    assert.throws(() => parseCheckConfig('level=high', 'x'), /invalid check option "level"/);
  });

  it('EXPOSE with an IP or host port exposes the container port, as BuildKit, with the warning', async () => {
    const { warnings, plan } = await converted('FROM scratch\nEXPOSE 127.0.0.1:8080:80/UDP 5000:5000 :9000\n');
    assert.deepEqual(Object.keys(plan.config.config.ExposedPorts ?? {}).sort(), ['5000/tcp', '80/udp', '9000/tcp']);
    assert.deepEqual(
      warnings.map((w) => w.rule),
      ['ExposeProtoCasing', 'ExposeInvalidFormat', 'ExposeInvalidFormat'],
    );
  });

  it('reports a warning once when the Dockerfile is converted for several platforms', async () => {
    const parsed = parseDockerfile('FROM scratch as base\n', 'Dockerfile');
    const checks = new BuildChecks('Dockerfile', parseCheckConfig(undefined, 'x'));
    for (const architecture of ['amd64', 'arm64']) {
      await convert(toStages(parsed), {
        buildArgs: new Map(),
        target: undefined,
        platform: { os: 'linux', architecture },
        buildPlatform: { os: 'linux', architecture: 'amd64' },
        context: { op: 'context', name: 'context', dir: '/ctx', excludes: [] },
        sourceDateEpoch: 0,
        network: 'private',
        warn: () => undefined,
        checks,
        resolveImage: async () => assert.fail('scratch resolves nothing'),
      });
    }
    assert.equal(checks.warnings.length, 1);
  });
});
