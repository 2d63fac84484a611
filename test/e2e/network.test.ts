// RUN steps and `tcbuild run` get a private network by default: the internet through a user-mode
// stack, never the host's loopback services; the host's network and a privileged container only
// with the build's entitlements (--allow), as BuildKit's.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { loadFixture } from '../../scripts/fixtures.js';
import { NEEDS_ROOT, tcbuild, tempRoot } from '../helpers/cli.js';
import { noRouteOut, OUTSIDE_HOST } from '../helpers/outside.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { compileProbe } from '../sandbox/probes.js';

/** A privileged container has every capability tcbuild (root, like this test) has. */
const ALL_CAPABILITIES = new RegExp(
  `^CapEff:\\s+${/^CapPrm:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))![1]}$`,
  'm',
);

describe('the network and privileges of RUN steps and tcbuild run', { skip: NEEDS_ROOT }, () => {
  let root: string;
  let context: string;
  let registry: TestRegistry;
  const env = () => ({ TCBUILD_ROOT: root });
  const probeRegistry = () =>
    `/netconnect tcp 127.0.0.1 ${registry.host.split(':')[1]} 'GET /v2/ HTTP/1.0\\r\\n\\r\\n'`;

  /** Builds `run` as a RUN step that writes what it printed to /result, exported with -o; returns it. */
  const buildAndRead = async (runLine: string, ...flags: string[]) => {
    await writeFile(join(context, 'Dockerfile'), `FROM busybox\nCOPY netconnect /\n${runLine}\n`);
    const out = await mkdtemp(join(tmpdir(), 'tcbuild-net-out-'));
    try {
      const r = await tcbuild(
        ['build', '--progress', 'plain', '--no-cache', '-o', `type=local,dest=${out}`, ...flags, context],
        env(),
      );
      return { ...r, result: r.code === 0 ? await readFile(join(out, 'result'), 'utf8') : '' };
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  };

  before(async () => {
    root = await tempRoot();
    await loadFixture('busybox:latest', root);
    context = await mkdtemp(join(tmpdir(), 'tcbuild-net-ctx-'));
    compileProbe('netconnect', join(context, 'netconnect'));
    registry = await startRegistry();
  });
  after(async () => {
    await registry?.stop();
    await rm(root, { recursive: true, force: true });
    await rm(context, { recursive: true, force: true });
  });

  it("a RUN step cannot reach the host's loopback registry by default, nor with --network default", async () => {
    for (const flags of [[], ['--network', 'default']]) {
      const r = await buildAndRead(`RUN ${probeRegistry()} > /result || true`, ...flags);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.result, /^failed: Connection refused\n$/);
    }
  });

  it('RUN --network=host is refused without --allow network.host, naming the line', async () => {
    const r = await buildAndRead(`RUN --network=host ${probeRegistry()} > /result`);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /Dockerfile:3: RUN --network=host .*: needs the host's network, which this build is not allowed/,
    );
    assert.match(r.stderr, /--allow network\.host/);
    assert.doesNotMatch(r.stderr, /internal error|\n\s+at /);
    const unknown = await buildAndRead('RUN true', '--allow', 'network.host,root');
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /--allow root: unknown entitlement; expected network\.host or security\.insecure/);
  });

  it('reaches the host registry with --allow network.host and RUN --network=host, or with --network host', async () => {
    const allowed = await buildAndRead(`RUN --network=host ${probeRegistry()} > /result`, '--allow', 'network.host');
    assert.equal(allowed.code, 0, allowed.stderr);
    assert.match(allowed.result, /^connected\nHTTP\/1\.[01] 200 /);
    const buildWide = await buildAndRead(`RUN ${probeRegistry()} > /result`, '--network', 'host');
    assert.equal(buildWide.code, 0, buildWide.stderr);
    assert.match(buildWide.result, /^connected\nHTTP\/1\.[01] 200 /);
  });

  it('--network none and RUN --network=none have only lo', async () => {
    const r = await buildAndRead('RUN --network=none tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " " > /result');
    assert.equal(r.result, 'lo\n', r.stderr);
    const wide = await buildAndRead(
      'RUN tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " " > /result',
      '--network',
      'none',
    );
    assert.equal(wide.result, 'lo\n', wide.stderr);
  });

  it('a RUN step resolves a name and connects outside the host through the private network', async (t) => {
    const why = await noRouteOut();
    if (why) return t.skip(why);
    const head = `HEAD / HTTP/1.1\\r\\nHost: ${OUTSIDE_HOST}\\r\\nConnection: close\\r\\n\\r\\n`;
    const r = await buildAndRead(
      `RUN address=$(nslookup ${OUTSIDE_HOST} | awk '/^Address/ && !/#|:53$/ { print $2; exit }') && /netconnect tcp "$address" 80 '${head}' > /result`,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.result, /^connected\nHTTP\/1\.[01] \d{3}/);
  });

  it('without slirp4netns, a RUN step fails with a clear error naming the line and the fix', async () => {
    const bin = await mkdtemp(join(tmpdir(), 'tcbuild-no-slirp-'));
    try {
      await symlink(process.execPath, join(bin, 'node'));
      await writeFile(join(context, 'Dockerfile'), 'FROM busybox\nRUN echo hi\n');
      const r = await tcbuild(['build', '--progress', 'quiet', '--no-cache', context], { ...env(), PATH: bin });
      assert.equal(r.code, 1);
      assert.match(
        r.stderr,
        /^error: .*Dockerfile:2: RUN echo hi: the private network of the container could not be set up: slirp4netns is not installed\nhint: install it \(apt-get install slirp4netns\)/,
      );
    } finally {
      await rm(bin, { recursive: true, force: true });
    }
  });

  it('RUN --security=insecure is refused without --allow security.insecure, and privileged with it', async () => {
    const line = 'RUN --security=insecure grep -E "^(CapEff|Seccomp):" /proc/self/status > /result';
    const refused = await buildAndRead(line);
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      /Dockerfile:3: RUN --security=insecure .*: needs a privileged container .*, which this build is not allowed/,
    );
    assert.match(refused.stderr, /--allow security\.insecure/);

    const allowed = await buildAndRead(line, '--allow', 'security.insecure');
    assert.equal(allowed.code, 0, allowed.stderr);
    assert.match(allowed.result, ALL_CAPABILITIES);
    assert.match(allowed.result, /^Seccomp:\s+0$/m);

    const sandboxed = await buildAndRead(
      'RUN --security=sandbox grep -E "^(CapEff|Seccomp):" /proc/self/status > /result',
    );
    assert.match(sandboxed.result, /^CapEff:\s+00000000a80425fb$/m, sandboxed.stderr);
    assert.match(sandboxed.result, /^Seccomp:\s+2$/m);

    const bogus = await buildAndRead('RUN --security=root true');
    assert.equal(bogus.code, 1);
    assert.match(bogus.stderr, /Dockerfile:3: unsupported RUN --security=root: use sandbox or insecure/);
  });

  it('tcbuild run: private by default, --network host reaches the host, --privileged has every capability', async () => {
    const probe = (...flags: string[]) =>
      tcbuild(
        ['run', '-v', `${context}/netconnect:/netconnect:ro`, ...flags, 'busybox', 'sh', '-c', probeRegistry()],
        env(),
      );
    const isolated = await probe();
    assert.equal(isolated.stdout, 'failed: Connection refused\n', isolated.stderr);
    assert.equal(isolated.code, 1);
    const host = await probe('--network', 'host');
    assert.match(host.stdout, /^connected\nHTTP\/1\.[01] 200 /, host.stderr);
    const devices = await tcbuild(
      [
        'run',
        'busybox',
        'sh',
        '-c',
        'tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " "; grep nameserver /etc/resolv.conf',
      ],
      env(),
    );
    assert.equal(devices.stdout, 'lo\ntap0\nnameserver 10.0.2.3\n', devices.stderr);
    const privileged = await tcbuild(['run', '--privileged', 'busybox', 'grep', 'CapEff', '/proc/self/status'], env());
    assert.match(privileged.stdout, ALL_CAPABILITIES, privileged.stderr);
  });
});
