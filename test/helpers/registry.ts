import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { access, mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Agent, fetch as undiciFetch } from 'undici';
import { testCertificates } from './test-ca.js';
import { startTokenServer } from './token-server.js';

const REGISTRY_BIN = '/usr/bin/docker-registry';
const START_TIMEOUT_MS = 15_000;

export interface TestRegistry {
  host: string; // "127.0.0.1:PORT"
  url: string; // "http://127.0.0.1:PORT" (https with tls)
  stop(): Promise<void>;
  username?: string;
  password?: string;
  /** With tls: a certs.d root holding HOST/ca.crt for this registry. */
  certsDir?: string;
}

export interface RegistrySetup {
  /** htpasswd: Basic credentials; token: a JWT token server of the harness (auth: token). */
  auth?: 'htpasswd' | 'token';
  /** Serve HTTPS with a certificate of a test CA, installed in a temp certs.d (TestRegistry.certsDir). */
  tls?: boolean;
}

/**
 * Starts Debian's CNCF distribution registry on a free loopback port, storing into a fresh temp
 * dir (removed by stop()). With `auth: 'htpasswd'` it requires Basic credentials, returned here.
 */
export async function startRegistry(opts: RegistrySetup = {}): Promise<TestRegistry> {
  try {
    await access(REGISTRY_BIN);
  } catch {
    throw new Error(`${REGISTRY_BIN} is not installed: install it with scripts/install-system-deps.sh`);
  }
  const dir = await mkdtemp(join(tmpdir(), 'tcbuild-registry-'));
  try {
    const credentials = opts.auth ? { username: 'tcbuild', password: randomBytes(9).toString('base64url') } : undefined;
    if (opts.auth === 'htpasswd')
      await writeFile(join(dir, 'htpasswd'), `${credentials!.username}:${await bcrypt(credentials!.password)}\n`);
    const tokenServer = opts.auth === 'token' ? await startTokenServer(dir, credentials!) : undefined;
    const port = await freeLoopbackPort();
    const host = `127.0.0.1:${port}`;
    const tls = opts.tls ? await testCertificates(dir, host) : undefined;
    const auth = opts.auth === 'htpasswd' ? htpasswdAuth(dir) : tokenServer ? tokenServer.config : [];
    await writeFile(join(dir, 'config.yml'), registryConfig(dir, host, [...(tls?.config ?? []), ...auth]));
    const child = await spawnLogged(REGISTRY_BIN, ['serve', join(dir, 'config.yml')], join(dir, 'registry.log'));
    const url = `${tls ? 'https' : 'http'}://${host}`;
    try {
      await waitUntilServing(`${url}/v2/`, child, join(dir, 'registry.log'), tls?.ca);
    } catch (err) {
      await kill(child);
      await tokenServer?.stop();
      throw err;
    }
    return {
      host,
      url,
      ...credentials,
      ...(tls ? { certsDir: tls.certsDir } : {}),
      async stop() {
        await kill(child);
        await tokenServer?.stop();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

function registryConfig(dir: string, addr: string, extra: string[]): string {
  return [
    'version: 0.1',
    'log:',
    '  level: error',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${join(dir, 'data')}`,
    '  delete:',
    '    enabled: true',
    'http:',
    `  addr: ${addr}`,
    `  secret: ${randomBytes(16).toString('hex')}`,
    ...extra,
    '',
  ].join('\n');
}

function htpasswdAuth(dir: string): string[] {
  return ['auth:', '  htpasswd:', '    realm: tcbuild-test', `    path: ${join(dir, 'htpasswd')}`];
}

/** Binds port 0 on loopback and releases it, so the registry can take it. */
async function freeLoopbackPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function spawnLogged(bin: string, args: string[], logPath: string): Promise<ChildProcess> {
  const log = await open(logPath, 'a');
  try {
    return spawn(bin, args, { stdio: ['ignore', log.fd, log.fd] });
  } finally {
    await log.close();
  }
}

async function waitUntilServing(url: string, child: ChildProcess, logPath: string, ca?: string): Promise<void> {
  const dispatcher = ca ? new Agent({ connect: { ca } }) : undefined;
  const deadline = Date.now() + START_TIMEOUT_MS;
  const failure = async (why: string) =>
    new Error(`docker-registry ${why}; its log:\n${await readFile(logPath, 'utf8').catch(() => '(no log)')}`);
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw await failure(`exited (${child.exitCode ?? child.signalCode})`);
    try {
      const res = await undiciFetch(url, dispatcher ? { dispatcher } : {});
      await res.arrayBuffer();
      if (res.status === 200 || res.status === 401) return void (await dispatcher?.close());
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw await failure(`did not answer ${url} within ${START_TIMEOUT_MS} ms`);
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}

const BCRYPT_ALPHABET = './ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A bcrypt hash (what the registry's htpasswd wants) through libc's crypt(3), reached via perl. */
async function bcrypt(password: string): Promise<string> {
  const bytes = randomBytes(22);
  // The 22nd character carries only 2 significant bits: it must be one of . O e u.
  const salt = [...bytes.subarray(0, 21)].map((b) => BCRYPT_ALPHABET[b % 64]).join('') + '.Oeu'[bytes[21]! % 4];
  // `--`: a password may begin with '-', which perl would take for a switch.
  const { stdout } = await promisify(execFile)('perl', [
    '-e',
    'print crypt($ARGV[0], $ARGV[1])',
    '--',
    password,
    `$2b$05$${salt}`,
  ]);
  if (!stdout.startsWith('$2b$'))
    throw new Error('libc crypt(3) cannot make bcrypt hashes here; install apache2-utils for htpasswd');
  return stdout;
}

export type FakeHandler = (req: IncomingMessage, res: ServerResponse, body: Buffer) => void | Promise<void>;

/**
 * A tiny loopback HTTP server for behaviour a real registry will not show (lies, failures);
 * HTTPS when given a key and certificate.
 */
export async function startFakeServer(
  handler: FakeHandler,
  tls?: { key: string; cert: string },
): Promise<{ host: string; stop(): Promise<void> }> {
  const listener: RequestListener = (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      Promise.resolve(handler(req, res, Buffer.concat(chunks))).catch((err: unknown) => {
        res.statusCode = 500;
        res.end(String(err));
      });
    });
  };
  const server: Server = tls ? createTlsServer(tls, listener) : createServer(listener);
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    host: `127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A throwaway self-signed certificate for 127.0.0.1 and localhost. */
export async function selfSignedCertificate(): Promise<{ key: string; cert: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'tcbuild-cert-'));
  try {
    const [key, cert] = [join(dir, 'key.pem'), join(dir, 'cert.pem')];
    await promisify(execFile)('openssl', [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-keyout',
      key,
      '-out',
      cert,
    ]);
    return { key: await readFile(key, 'utf8'), cert: await readFile(cert, 'utf8') };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
