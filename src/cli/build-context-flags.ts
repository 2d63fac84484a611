import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidInputError } from '../errors.js';
import type { SecretSource } from '../solver/run-mounts.js';

/** `--secret id=ID,src=FILE` / `id=ID,env=VAR` (also `source=`, `type=file|env`), as docker build reads them. */
export function parseSecrets(list: string[]): Record<string, SecretSource> {
  const secrets: Record<string, SecretSource> = {};
  for (const spec of list) {
    const fields = new Map(
      spec.split(',').map((kv) => [kv.slice(0, kv.indexOf('=')).trim(), kv.slice(kv.indexOf('=') + 1)] as const),
    );
    const id = fields.get('id');
    if (!id || spec.split(',').some((kv) => !kv.includes('=')))
      throw new InvalidInputError(`--secret "${spec}": expected id=ID,src=FILE or id=ID,env=VAR`);
    const file = fields.get('src') ?? fields.get('source');
    const env = fields.get('env');
    if (fields.get('type') === 'env' || (env !== undefined && file === undefined))
      secrets[id] = { env: env ?? file ?? id };
    else if (file !== undefined) secrets[id] = { file };
    else secrets[id] = process.env[id] !== undefined ? { env: id } : { file: id };
  }
  return secrets;
}

/** `--ssh default` ($SSH_AUTH_SOCK) or `--ssh ID=SOCKET`: agent sockets to forward. */
export function parseSsh(list: string[]): Record<string, string> {
  const sockets: Record<string, string> = {};
  for (const spec of list) {
    const eq = spec.indexOf('=');
    const id = eq < 0 ? spec : spec.slice(0, eq);
    const socket = eq < 0 ? process.env['SSH_AUTH_SOCK'] : spec.slice(eq + 1);
    if (!socket)
      throw new InvalidInputError(`--ssh ${spec}: no agent socket`, {
        hint: 'start ssh-agent (SSH_AUTH_SOCK must be set) or give --ssh ID=/path/to/agent.sock',
      });
    if (socket.includes(','))
      throw new InvalidInputError(`--ssh ${spec}: one agent socket per id (key files are not supported)`);
    sockets[id] = socket;
  }
  return sockets;
}

/** `--build-context NAME=DIR|GIT-URL|docker-image://REF` (repeatable). */
export function parseBuildContexts(list: string[]): Record<string, string> {
  const contexts: Record<string, string> = {};
  for (const spec of list) {
    const eq = spec.indexOf('=');
    if (eq <= 0 || eq === spec.length - 1)
      throw new InvalidInputError(
        `--build-context "${spec}": expected NAME=DIR, NAME=GIT-URL or NAME=docker-image://REF`,
      );
    contexts[spec.slice(0, eq).toLowerCase()] = spec.slice(eq + 1);
  }
  return contexts;
}

/**
 * `tcbuild build -` as `docker build -`: standard input is a context tarball, or else a
 * Dockerfile built with an empty context. The caller removes `dir` when done.
 */
export async function stdinContext(): Promise<{
  context: string;
  dockerfile?: string;
  dir: string;
  remove(): Promise<void>;
}> {
  const input = readFileSync(0);
  const dir = await mkdtemp(join(tmpdir(), 'tcbuild-stdin-'));
  const remove = () => rm(dir, { recursive: true, force: true });
  if (looksLikeArchive(input)) {
    await writeFile(join(dir, 'context.tar'), input);
    return { context: join(dir, 'context.tar'), dir, remove };
  }
  return { context: dir, dockerfile: input.toString('utf8'), dir, remove };
}

function looksLikeArchive(data: Buffer): boolean {
  const magic = [
    [0x1f, 0x8b],
    [0x28, 0xb5, 0x2f, 0xfd],
    [0x42, 0x5a, 0x68],
    [0xfd, 0x37, 0x7a, 0x58, 0x5a],
  ];
  return magic.some((m) => m.every((b, i) => data[i] === b)) || data.subarray(257, 262).toString('latin1') === 'ustar';
}
