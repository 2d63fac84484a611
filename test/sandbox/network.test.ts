// The private network (the default of RUN steps and `tcbuild run`): its own namespace, the
// internet through slirp4netns, and nothing of the host's loopback services.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';

import { noRouteOut, OUTSIDE_HOST } from '../helpers/outside.js';
import { run } from './harness.js';
import { compileProbe } from './probes.js';
import { busyboxOverlayPerTest, skipUnlessRoot } from './rootfs.js';

const HTTP_HEAD = `HEAD / HTTP/1.1\\r\\nHost: ${OUTSIDE_HOST}\\r\\nConnection: close\\r\\n\\r\\n`;

function listen(server: Server, where: string | { port: number; host: string }): Promise<void> {
  return new Promise((resolve, reject) => server.once('error', reject).listen(where, () => resolve()));
}

function slirpChildren(): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const [comm, rest] = [
          stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')),
          stat.slice(stat.lastIndexOf(')') + 2),
        ];
        return comm === 'slirp4netns' && Number(rest.split(' ')[1]) === process.pid;
      } catch {
        return false;
      }
    })
    .map(Number);
}

describe("network 'private'", { skip: skipUnlessRoot }, () => {
  const fx = busyboxOverlayPerTest();
  const servers: Server[] = [];
  const abstractName = `tcbuild-test-${process.pid}`;
  let port = 0;
  let ipv6 = true;

  before(async () => {
    const v4 = createServer((s) => s.end());
    await listen(v4, { port: 0, host: '127.0.0.1' });
    servers.push(v4);
    port = (v4.address() as { port: number }).port;
    const v6 = createServer((s) => s.end());
    await listen(v6, { port, host: '::1' }).then(
      () => servers.push(v6),
      () => (ipv6 = false),
    );
    const abstract = createServer((s) => s.end());
    await listen(abstract, `\0${abstractName}`);
    servers.push(abstract);
  });
  after(() => Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve)))));

  const withProbe = () => compileProbe('netconnect', join(fx.overlay.upper, 'netconnect'));

  test('has lo and tap0 up, a default route through the stack, and its DNS forwarder as the name server', async () => {
    const { stdout } = await run(
      fx.overlay,
      'tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " " | sort; awk \'$2 == "00000000" { print $1, $3 }\' /proc/net/route; cat /etc/resolv.conf | grep nameserver',
      { network: 'private' },
    );
    assert.equal(stdout, 'lo\ntap0\ntap0 0202000A\nnameserver 10.0.2.3\n');
  });

  test("reaches none of the host's loopback services or abstract sockets, under any address", async () => {
    withProbe();
    const addresses = [
      '127.0.0.1',
      '127.0.0.2',
      '127.255.255.254',
      '0.0.0.0',
      '10.0.2.2',
      '10.0.2.3',
      '::1',
      '::ffff:127.0.0.1',
      '::',
    ];
    const script = [
      ...addresses.map((a) => `/netconnect tcp ${a} ${port}`),
      `/netconnect abstract ${abstractName}`,
    ].join('; ');
    const { stdout } = await run(fx.overlay, script, { network: 'private' });
    const lines = stdout.trim().split('\n');
    assert.equal(lines.length, addresses.length + 1, stdout);
    for (const line of lines) assert.match(line, /^failed: /, stdout);

    // The same probes do reach them from the host's network: the test can fail.
    const host = await run(
      fx.overlay,
      `/netconnect tcp 127.0.0.1 ${port}; ${ipv6 ? `/netconnect tcp ::1 ${port}; ` : ''}/netconnect abstract ${abstractName}`,
      { network: 'host' },
    );
    assert.equal(host.stdout, ipv6 ? 'connected\nconnected\nconnected\n' : 'connected\nconnected\n');
  });

  test('leaves no network stack running after the container', async () => {
    await run(fx.overlay, 'true', { network: 'private' });
    // Its teardown finishes after the container's result (the kernel removes its tap device first).
    for (let i = 0; i < 600 && slirpChildren().length > 0; i++) await sleep(50);
    assert.deepEqual(slirpChildren(), []);
  });

  test('resolves a name and connects to an address outside the host', async (t) => {
    const why = await noRouteOut();
    if (why) return t.skip(why);
    withProbe();
    const { stdout, result } = await run(
      fx.overlay,
      `address=$(nslookup ${OUTSIDE_HOST} | awk '/^Address/ && !/#|:53$/ { print $2; exit }'); echo "resolved: \${address:+yes}"; /netconnect tcp "$address" 80 '${HTTP_HEAD}'`,
      { network: 'private' },
    );
    assert.equal(result.exitCode, 0, stdout);
    assert.match(stdout, /^resolved: yes\nconnected\nHTTP\/1\.[01] \d{3}/, stdout);
  });
});
