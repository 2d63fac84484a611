// The seccomp probe set through bin/tcbuild: in a RUN step of a build and in `tcbuild run`, for
// the host's platform and, under emulation, for the other one.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { loadFixture } from '../../scripts/fixtures.js';
import { NEEDS_ROOT, tcbuild, tempRoot } from '../helpers/cli.js';
import { compileProbe, FOREIGN_ARCH, noForeignProbes, PLATFORM, type ProbeArch } from '../sandbox/probes.js';
import { assertSeccompProbe } from '../sandbox/seccomp-probe.js';

const HOST_ARCH = process.arch as ProbeArch;

describe("Docker's seccomp profile in RUN steps and tcbuild run", { skip: NEEDS_ROOT }, () => {
  let root: string;
  let context: string;
  const env = () => ({ TCBUILD_ROOT: root });

  before(async () => {
    root = await tempRoot();
    await loadFixture('busybox:latest', root);
    context = await mkdtemp(join(tmpdir(), 'tcbuild-seccomp-ctx-'));
    // The probe is named by the platform's architecture, so one Dockerfile serves both.
    await writeFile(
      join(context, 'Dockerfile'),
      'FROM busybox\nARG TARGETARCH\nCOPY syscalls-$TARGETARCH /bin/syscalls\nRUN syscalls > /probe.txt\n',
    );
  });

  after(async () => {
    await rm(root, { recursive: true, force: true });
    await rm(context, { recursive: true, force: true });
  });

  const probeBoth = async (arch: ProbeArch) => {
    const platform = PLATFORM[arch];
    compileProbe('syscalls', join(context, `syscalls-${platform.split('/')[1]}`), arch);
    const image = `seccomp-probe:${arch}`;
    const built = await tcbuild(['build', '--progress', 'plain', '--platform', platform, '-t', image, context], env());
    assert.equal(built.code, 0, built.stderr);
    const emulated = arch !== HOST_ARCH;
    const inRun = await tcbuild(['run', '--rm', '--platform', platform, image, 'cat', '/probe.txt'], env());
    assert.equal(inRun.code, 0, inRun.stderr);
    assertSeccompProbe(inRun.stdout, { arch, emulated });
    const inTcbuildRun = await tcbuild(['run', '--rm', '--platform', platform, image, 'syscalls'], env());
    assert.equal(inTcbuildRun.code, 0, inTcbuildRun.stderr);
    assertSeccompProbe(inTcbuildRun.stdout, { arch, emulated });
  };

  it("gives a RUN step and tcbuild run the profile's verdicts", () => probeBoth(HOST_ARCH));

  it(`does so for an emulated ${PLATFORM[FOREIGN_ARCH]} RUN and run, where qemu passes calls on`, {
    skip: noForeignProbes,
  }, async () => {
    const install = await tcbuild(['binfmt', '--install'], { TCBUILD_ROOT: '/nonexistent' });
    assert.equal(install.code, 0, install.stderr);
    await probeBoth(FOREIGN_ARCH);
  });
});
