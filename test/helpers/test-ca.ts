import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * A test CA and a server certificate it signs for 127.0.0.1, made with openssl; the CA is
 * installed as certs.d/HOST/ca.crt under a temp certs.d root, as Docker's convention wants.
 */
export async function testCertificates(
  dir: string,
  host: string,
): Promise<{ ca: string; certsDir: string; config: string[] }> {
  const p = (name: string) => join(dir, name);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await run('openssl', [
    'req',
    '-x509',
    ...ec,
    '-days',
    '1',
    '-subj',
    '/CN=tcbuild test CA',
    '-keyout',
    p('ca.key'),
    '-out',
    p('ca.crt'),
  ]);
  await run('openssl', ['req', ...ec, '-subj', '/CN=127.0.0.1', '-keyout', p('server.key'), '-out', p('server.csr')]);
  await writeFile(p('server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  await run('openssl', [
    'x509',
    '-req',
    '-in',
    p('server.csr'),
    '-CA',
    p('ca.crt'),
    '-CAkey',
    p('ca.key'),
    '-CAcreateserial',
    '-days',
    '1',
    '-extfile',
    p('server.ext'),
    '-out',
    p('server.crt'),
  ]);
  const certsDir = p('certs.d');
  await mkdir(join(certsDir, host), { recursive: true });
  const ca = await readFile(p('ca.crt'), 'utf8');
  await writeFile(join(certsDir, host, 'ca.crt'), ca);
  return { ca, certsDir, config: ['  tls:', `    certificate: ${p('server.crt')}`, `    key: ${p('server.key')}`] };
}
