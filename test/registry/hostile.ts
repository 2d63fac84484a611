import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pack } from 'tar-stream';
import { sha256, type Digest } from '../../src/image/digest.js';

/** Digest spellings an attacker writes into a descriptor: each must be refused before it names a file or a URL. */
export function digestAttacks(hostFile: string): string[] {
  const hex = 'a'.repeat(64);
  return [
    `sha256:${'../'.repeat(24)}${hostFile.slice(1)}`,
    `sha256:${hex.slice(1)}`,
    `sha256:${hex}0`,
    `sha256:${'A'.repeat(64)}`,
    `sha256:${hex}/../${hex}`,
    `md5:${'a'.repeat(32)}`,
    `sha256:%2e%2e/%2e%2e/${'%2e%2e/'.repeat(20)}${hostFile.slice(1)}`,
    `sha512:${'a'.repeat(128)}`,
    `SHA256:${hex}`,
    `sha256:${hex}\n`,
    `sha256:${hostFile}`,
    '',
  ];
}

/** A world-readable file on the host an attacker names: it must never be read, so its bytes must never show up anywhere. */
export interface Canary {
  path: string;
  content: Buffer;
  digest: Digest;
}

export async function writeCanary(): Promise<Canary> {
  const content = Buffer.from(`tcbuild canary ${randomBytes(12).toString('hex')}\n`);
  const path = join(tmpdir(), `tcbuild-canary-${randomBytes(6).toString('hex')}`);
  await writeFile(path, content, { mode: 0o644 });
  return { path, content, digest: sha256(content) };
}

/** A registry that takes every upload and records what reached it, to see whether a host file was sent. */
export interface RecordingRegistry {
  host: string;
  /** Every request body received. */
  bodies: Buffer[];
  urls: string[];
  stop(): Promise<void>;
}

export async function startRecordingRegistry(): Promise<RecordingRegistry> {
  const bodies: Buffer[] = [];
  const urls: string[] = [];
  let sessions = 0;
  const respond = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url!, 'http://recorder');
    if (url.pathname === '/v2/') return void res.end('{}');
    if (req.method === 'POST' && url.pathname.endsWith('/blobs/uploads/')) {
      return void res.writeHead(202, { location: `${url.pathname}session-${++sessions}` }).end();
    }
    if (req.method === 'PATCH') return void res.writeHead(202, { location: url.pathname }).end();
    if (req.method === 'PUT') return void res.writeHead(201).end();
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"errors":[{"code":"BLOB_UNKNOWN"}]}');
  };
  // Bodies are recorded as they arrive: a client that gives up halfway has still sent what it sent.
  const server = createServer((req, res) => {
    urls.push(`${req.method} ${req.url}`);
    req.on('data', (chunk: Buffer) => bodies.push(chunk));
    req.on('end', () => respond(req, res));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    host: `127.0.0.1:${port}`,
    bodies,
    urls,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Whether the canary's bytes reached the registry (its line is shorter than any chunk boundary matters for: it is checked whole). */
export function received(registry: RecordingRegistry, canary: Canary): boolean {
  return Buffer.concat(registry.bodies).includes(canary.content);
}

/** An OCI layout directory holding `blobs` under their digests (or the names given) and `index`. */
export async function writeLayout(dir: string, blobs: Map<string, Buffer>, index: unknown): Promise<void> {
  await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
  await writeFile(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  for (const [digest, data] of blobs)
    await writeFile(join(dir, 'blobs', 'sha256', digest.slice('sha256:'.length)), data);
  await writeFile(join(dir, 'index.json'), JSON.stringify(index));
}

export type TarMember =
  | { name: string; data: Buffer | string }
  | { name: string; symlink: string }
  | { name: string; hardlink: string };

/** A tar file of the members as given: an attacker's archive may hold any names and links. */
export async function writeTarFile(path: string, members: TarMember[]): Promise<void> {
  const archive = pack();
  for (const m of members) {
    if ('data' in m) archive.entry({ name: m.name, mode: 0o644 }, m.data);
    else if ('symlink' in m) archive.entry({ name: m.name, type: 'symlink', linkname: m.symlink });
    else archive.entry({ name: m.name, type: 'link', linkname: m.hardlink });
  }
  archive.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of archive as AsyncIterable<Buffer>) chunks.push(chunk);
  await writeFile(path, Buffer.concat(chunks));
}

/** The error output of a CLI run that failed as it should: exit 1, one `error:` paragraph (and a hint), no stack. */
export function oneParagraph(result: { code: number | null; stderr: string }): string {
  if (result.code !== 1 || !/^error: [^\n]+\n(?:hint: [^\n]+\n)?$/.test(result.stderr)) {
    throw new Error(`expected exit 1 with one error paragraph, got ${result.code}:\n${result.stderr}`);
  }
  return result.stderr;
}
