import { execFile } from 'node:child_process';
import { createSign, randomBytes, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';

const ISSUER = 'tcbuild-test-issuer';
const SERVICE = 'tcbuild-test-registry';

function base64url(data: string | Buffer): string {
  return Buffer.from(data).toString('base64url');
}

interface Access {
  type: string;
  name: string;
  actions: string[];
}

/** `repository:team/app:pull,push` → the access claim a token grants for it. */
function parseScope(scope: string): Access | undefined {
  const last = scope.lastIndexOf(':');
  const first = scope.indexOf(':');
  if (first < 0 || last <= first) return undefined;
  return { type: scope.slice(0, first), name: scope.slice(first + 1, last), actions: scope.slice(last + 1).split(',') };
}

/**
 * A token server for the registry's `auth: token`: checks Basic credentials, and signs an RS256
 * JWT (x5c: its self-signed certificate, the registry's rootcertbundle) granting the scopes asked.
 * Anonymous requests get a token with no access; wrong credentials get 401.
 */
export async function startTokenServer(
  dir: string,
  credentials: { username: string; password: string },
): Promise<{ config: string[]; requests: number; stop(): Promise<void> }> {
  const key = join(dir, 'token.key');
  const cert = join(dir, 'token.crt');
  await promisify(execFile)('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=token signer',
    '-keyout',
    key,
    '-out',
    cert,
  ]);
  const privateKey = await readFile(key, 'utf8');
  const der = new X509Certificate(await readFile(cert)).raw;
  const expected = `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
  const state = { requests: 0 };
  const server = createServer((req, res) => {
    state.requests++;
    const url = new URL(req.url!, 'http://token');
    const auth = req.headers.authorization;
    if (auth !== undefined && auth !== expected) {
      res
        .writeHead(401, { 'content-type': 'application/json' })
        .end(JSON.stringify({ details: 'wrong username or password' }));
      return;
    }
    const access = auth ? url.searchParams.getAll('scope').flatMap((s) => parseScope(s) ?? []) : [];
    const now = Math.floor(Date.now() / 1000);
    const header = base64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', x5c: [der.toString('base64')] }));
    const claims = base64url(
      JSON.stringify({
        iss: ISSUER,
        sub: auth ? credentials.username : '',
        aud: SERVICE,
        exp: now + 300,
        nbf: now - 10,
        iat: now,
        jti: randomBytes(8).toString('hex'),
        access,
      }),
    );
    const signature = createSign('RSA-SHA256').update(`${header}.${claims}`).sign(privateKey).toString('base64url');
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ token: `${header}.${claims}.${signature}`, expires_in: 300 }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    config: [
      'auth:',
      '  token:',
      `    realm: http://127.0.0.1:${port}/token`,
      `    service: ${SERVICE}`,
      `    issuer: ${ISSUER}`,
      `    rootcertbundle: ${cert}`,
    ],
    get requests() {
      return state.requests;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
