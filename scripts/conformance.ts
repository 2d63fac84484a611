/**
 * The Dockerfile conformance set (test/conformance/dockerfiles/): one folder per case, each with a
 * Dockerfile, an optional `context/`, `meta.json` (where the expectation comes from, build args)
 * and `expected.json` (the file tree the image adds to or changes in its base, and the image config
 * fields BuildKit writes).
 *
 * `npm run conformance` installs and starts Debian's docker.io (dockerd on a private socket), pushes
 * the busybox fixture to a loopback registry, builds every case whose expectation comes from that
 * BuildKit with `docker build` and with bin/tcbuild, and compares both with each other and with the
 * stored expectations. Flags:
 *   --update       rewrite expected.json of the buildkit-docker.io cases from docker's results
 *   --case NAME    only this case (repeatable; a substring matches)
 *   --no-tcbuild   only docker (check the stored expectations against the real BuildKit)
 *   --no-docker    only tcbuild against the stored expectations (what the test suite does)
 *   --draft-docs   write a missing expected.json of a buildkit-docs case from tcbuild's result, as a
 *                  draft to be checked line by line against the documentation
 * The test suite (test/e2e/conformance.test.ts) uses the same helpers to check tcbuild alone.
 */
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { chmod, cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createGunzip } from 'node:zlib';
import { extract } from 'tar-stream';
import { fsOps } from '../src/snapshot/native.js';

const execFileP = promisify(execFile);

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CASES_DIR = join(REPO, 'test', 'conformance', 'dockerfiles');
export const TCBUILD = join(REPO, 'bin', 'tcbuild');

// ---------------------------------------------------------------------------------------------
// Cases

export interface CaseMeta {
  description: string;
  /** buildkit-docker.io: generated from Debian's docker.io (BuildKit v0.8); buildkit-docs: written by hand from the current BuildKit documentation. */
  source: 'buildkit-docker.io' | 'buildkit-docs';
  /** For buildkit-docs cases: the documentation the expectation follows. */
  docs?: string;
  /** --build-arg values besides BASE (always set to the busybox fixture). */
  buildArgs?: Record<string, string>;
  target?: string;
  /** Dockerfile name inside the case folder (default Dockerfile). */
  dockerfile?: string;
  /** Context file modes git cannot keep (octal strings), applied to the copied context. */
  modes?: Record<string, string>;
  /** Empty directories to create in the context. */
  dirs?: string[];
  /** Extended attributes (name → hex value) of context files, which git cannot keep; needs root for security.*. */
  xattrs?: Record<string, Record<string, string>>;
  /** --secret id=ID,src=FILE (FILE relative to the case folder). */
  secrets?: Record<string, string>;
  /** --build-context NAME=DIR (DIR relative to the case folder). */
  buildContexts?: Record<string, string>;
  /** Build twice (the second with the same cache): for cache-mount cases the second result is compared. */
  buildTwice?: boolean;
  /** tcbuild does not produce the expected result yet: the reason (the exact difference). */
  todo?: string;
  /**
   * Where the current BuildKit gives a different result from docker.io's v0.8 for the same
   * Dockerfile: corrections applied to expected.json before tcbuild is compared (docker still is
   * compared with expected.json as stored). files: null = unchanged from the base.
   */
  newerBuildkit?: {
    reason: string;
    files?: Record<string, FileEntry | null>;
    history?: Record<string, { created_by: string; empty_layer?: true }>;
  };
}

export interface FileEntry {
  type: 'file' | 'dir' | 'symlink' | 'char' | 'block' | 'fifo' | 'removed';
  mode?: string;
  uid?: number;
  gid?: number;
  size?: number;
  content?: string;
  sha256?: string;
  target?: string;
  /** The entry's SCHILY.xattr.* PAX records: name → hex of the value. */
  xattrs?: Record<string, string>;
}

export interface ConfigSummary {
  architecture?: string;
  os?: string;
  config: Record<string, unknown>;
  history: { created_by: string; empty_layer?: true }[];
  layers: number;
}

export interface Expected {
  config: ConfigSummary;
  /** Paths (no leading slash) the image adds or changes relative to its base image, and base paths it removes. */
  files: Record<string, FileEntry>;
}

export interface Case {
  name: string;
  dir: string;
  meta: CaseMeta;
  expected?: Expected;
}

export async function listCases(filter: string[] = []): Promise<Case[]> {
  const names = (await readdir(CASES_DIR, { withFileTypes: true }))
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .filter((n) => !filter.length || filter.some((f) => n.includes(f)))
    .sort();
  const cases: Case[] = [];
  for (const name of names) {
    const dir = join(CASES_DIR, name);
    const meta = JSON.parse(await readFile(join(dir, 'meta.json'), 'utf8')) as CaseMeta;
    const expectedPath = join(dir, 'expected.json');
    const expected = existsSync(expectedPath)
      ? (JSON.parse(await readFile(expectedPath, 'utf8')) as Expected)
      : undefined;
    cases.push({ name, dir, meta, ...(expected ? { expected } : {}) });
  }
  return cases;
}

/**
 * Copies a case into a fresh work dir (git keeps neither modes other than 644/755 nor empty dirs):
 * WORK/Dockerfile (+ its .dockerignore), WORK/context/, secrets and named contexts.
 */
export async function prepareCase(
  c: Case,
  workParent: string,
): Promise<{ work: string; dockerfile: string; context: string }> {
  const work = await mkdtemp(join(workParent, `${c.name}-`));
  await cp(c.dir, work, { recursive: true, verbatimSymlinks: true });
  const context = join(work, 'context');
  await mkdir(context, { recursive: true });
  for (const d of c.meta.dirs ?? []) await mkdir(join(context, d), { recursive: true });
  for (const [p, mode] of Object.entries(c.meta.modes ?? {})) await chmod(join(context, p), parseInt(mode, 8));
  for (const [p, attrs] of Object.entries(c.meta.xattrs ?? {})) {
    for (const [name, hex] of Object.entries(attrs)) fsOps().lsetxattr(join(context, p), name, Buffer.from(hex, 'hex'));
  }
  return { work, dockerfile: join(work, c.meta.dockerfile ?? 'Dockerfile'), context };
}

/** The build flags a case needs (besides -f, -t and the context), for docker and tcbuild alike. */
export function buildFlags(c: Case, work: string, base: string): string[] {
  const flags = ['--build-arg', `BASE=${base}`];
  for (const [k, v] of Object.entries(c.meta.buildArgs ?? {})) flags.push('--build-arg', `${k}=${v}`);
  if (c.meta.target) flags.push('--target', c.meta.target);
  for (const [id, src] of Object.entries(c.meta.secrets ?? {}))
    flags.push('--secret', `id=${id},src=${join(work, src)}`);
  for (const [name, dir] of Object.entries(c.meta.buildContexts ?? {}))
    flags.push('--build-context', `${name}=${join(work, dir)}`);
  return flags;
}

// ---------------------------------------------------------------------------------------------
// Reading images: layers applied in memory, the tree diffed against the base

type Tree = Map<string, FileEntry>;

function normPath(name: string): string {
  return name.replace(/^\.?\/+/, '').replace(/\/+$/, '');
}

function removeUnder(tree: Tree, path: string, keep?: Set<string>): void {
  const prefix = path === '' ? '' : `${path}/`;
  for (const k of [...tree.keys()]) if (k.startsWith(prefix) && k !== path && !keep?.has(k)) tree.delete(k);
}

async function hashStream(stream: Readable): Promise<{ sha256: string; size: number; text?: string }> {
  const h = createHash('sha256');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    h.update(chunk);
    size += chunk.length;
    if (size <= 256) chunks.push(chunk);
  }
  const buf = size <= 256 ? Buffer.concat(chunks) : undefined;
  const text = buf && isText(buf) ? buf.toString('utf8') : undefined;
  return { sha256: h.digest('hex'), size, ...(text !== undefined ? { text } : {}) };
}

function isText(buf: Buffer): boolean {
  if (buf.includes(0)) return false;
  const s = buf.toString('utf8');
  return Buffer.from(s, 'utf8').equals(buf);
}

function fileEntry(
  mode: number,
  uid: number,
  gid: number,
  h: { sha256: string; size: number; text?: string },
): FileEntry {
  return {
    type: 'file',
    mode: octal(mode),
    uid,
    gid,
    size: h.size,
    ...(h.text !== undefined ? { content: h.text } : { sha256: h.sha256 }),
  };
}

function octal(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, '0');
}

/** Applies one uncompressed layer tar to the tree (OCI whiteouts, opaque dirs, hard links). */
export async function applyLayer(tree: Tree, tar: Readable): Promise<void> {
  const ex = extract();
  const added = new Set<string>();
  const done = new Promise<void>((resolvePromise, reject) => {
    ex.on('entry', (header, stream, next) => {
      void (async () => {
        // every entry's data is read to its end (empty for all but files), then the next one comes
        const data = await hashStream(stream as unknown as Readable);
        const path = normPath(header.name);
        const base = path.split('/').pop()!;
        const parent = path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : '';
        const mode = header.mode ?? 0;
        const uid = header.uid ?? 0;
        const gid = header.gid ?? 0;
        if (base === '.wh..wh..opq') {
          removeUnder(tree, parent, added);
        } else if (base.startsWith('.wh.')) {
          const victim = parent ? `${parent}/${base.slice(4)}` : base.slice(4);
          tree.delete(victim);
          removeUnder(tree, victim);
        } else if (path !== '') {
          let entry: FileEntry | undefined;
          switch (header.type) {
            case 'file':
            case 'contiguous-file':
              entry = fileEntry(mode, uid, gid, data);
              break;
            case 'directory':
              entry = { type: 'dir', mode: octal(mode), uid, gid };
              break;
            case 'symlink':
              entry = { type: 'symlink', uid, gid, target: header.linkname ?? '' };
              break;
            case 'link': {
              const target = tree.get(normPath(header.linkname ?? ''));
              entry = target
                ? { ...target }
                : { type: 'file', mode: octal(mode), uid, gid, target: `hardlink to missing ${header.linkname}` };
              break;
            }
            case 'character-device':
            case 'block-device':
            case 'fifo':
              entry = {
                type: header.type === 'fifo' ? 'fifo' : header.type === 'character-device' ? 'char' : 'block',
                mode: octal(mode),
                uid,
                gid,
              };
              break;
            default:
              break;
          }
          if (entry) {
            const xattrs = paxXattrs(header.pax as Record<string, string> | undefined);
            if (xattrs) entry.xattrs = xattrs;
            const old = tree.get(path);
            if (old?.type === 'dir' && entry.type !== 'dir') removeUnder(tree, path);
            tree.set(path, entry);
            added.add(path);
          }
        }
        next();
      })().catch(reject);
    });
    ex.on('finish', () => resolvePromise());
    ex.on('error', reject);
  });
  tar.on('error', (e) => ex.destroy(e));
  tar.pipe(ex);
  await done;
}

/** tar-stream decodes PAX values as UTF-8: exact for the bytes below 0x80 that file capabilities use. */
function paxXattrs(pax: Record<string, string> | undefined): Record<string, string> | undefined {
  const prefix = 'SCHILY.xattr.';
  const found = Object.entries(pax ?? {})
    .filter(([k]) => k.startsWith(prefix))
    .sort(([a], [b]) => (a < b ? -1 : 1));
  if (!found.length) return undefined;
  return Object.fromEntries(found.map(([k, v]) => [k.slice(prefix.length), Buffer.from(v, 'utf8').toString('hex')]));
}

/** The entries of `final` that are new or different from `base`, and base entries it lacks. */
export function diffTrees(base: Tree, final: Tree): Record<string, FileEntry> {
  const out: Record<string, FileEntry> = {};
  for (const path of [...new Set([...base.keys(), ...final.keys()])].sort()) {
    const a = base.get(path);
    const b = final.get(path);
    if (!b) out[path] = { type: 'removed' };
    else if (!a || JSON.stringify(a) !== JSON.stringify(b)) out[path] = b;
  }
  return out;
}

interface RawConfig {
  architecture?: string;
  os?: string;
  variant?: string;
  config?: Record<string, unknown>;
  history?: { created_by?: string; empty_layer?: boolean; comment?: string }[];
  rootfs?: { diff_ids?: string[] };
}

/** The config fields BuildKit writes; null, "" and absent are the same thing. */
const CONFIG_FIELDS = [
  'User',
  'ExposedPorts',
  'Env',
  'Entrypoint',
  'Cmd',
  'Volumes',
  'WorkingDir',
  'Labels',
  'StopSignal',
  'Healthcheck',
  'Shell',
  'OnBuild',
  'ArgsEscaped',
];

export function summarizeConfig(raw: RawConfig): ConfigSummary {
  const config: Record<string, unknown> = {};
  for (const k of CONFIG_FIELDS) {
    const v = raw.config?.[k];
    if (v === undefined || v === null || v === '' || v === false) continue;
    config[k] = v;
  }
  return {
    architecture: raw.architecture,
    os: raw.os,
    config,
    history: (raw.history ?? []).map((h) => ({
      created_by: h.created_by ?? '',
      ...(h.empty_layer ? { empty_layer: true as const } : {}),
    })),
    layers: raw.rootfs?.diff_ids?.length ?? 0,
  };
}

/** How many layers at the start of the image are the base's: the fixture's one, or none for scratch. */
function baseLayerCount(raw: RawConfig): number {
  return raw.history?.[0]?.created_by?.startsWith('tcbuild fixtures:') ? 1 : 0;
}

async function resultFrom(raw: RawConfig, layers: (() => Promise<Readable>)[]): Promise<Expected> {
  const tree: Tree = new Map();
  let base: Tree = new Map();
  const nBase = baseLayerCount(raw);
  for (let i = 0; i < layers.length; i++) {
    if (i === nBase) base = new Map(tree);
    await applyLayer(tree, await layers[i]!());
  }
  if (nBase >= layers.length) base = new Map(tree);
  return { config: summarizeConfig(raw), files: diffTrees(base, tree) };
}

/** The result of a tcbuild build: read from the store root's OCI layout. */
export async function tcbuildResult(root: string, image: string): Promise<Expected> {
  const { stdout } = await execFileP(TCBUILD, ['inspect', image], {
    env: { ...process.env, TCBUILD_ROOT: root },
    maxBuffer: 64 << 20,
  });
  const info = JSON.parse(stdout) as {
    manifest: { layers: { digest: string; mediaType: string }[] };
    config: RawConfig;
  };
  const layers = info.manifest.layers.map((l) => async () => {
    const file = join(root, 'blobs', 'sha256', l.digest.slice('sha256:'.length));
    const raw = createReadStream(file);
    if (l.mediaType.endsWith('+gzip') || l.mediaType.endsWith('.gzip')) return raw.pipe(createGunzip());
    if (l.mediaType.endsWith('+zstd')) throw new Error(`zstd layer ${l.digest}: build with --compression gzip`);
    return raw;
  });
  return resultFrom(info.config, layers);
}

/** The result of a docker build: `docker save`, unpacked. */
export async function dockerResult(docker: Docker, image: string, scratch: string): Promise<Expected> {
  const dir = await mkdtemp(join(scratch, 'save-'));
  try {
    await execFileP(docker.bin, ['save', '-o', join(dir, 'image.tar'), image], { env: docker.env });
    await execFileP('tar', ['-xf', join(dir, 'image.tar'), '-C', dir]);
    const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as {
      Config: string;
      Layers: string[];
    }[];
    const raw = JSON.parse(await readFile(join(dir, manifest[0]!.Config), 'utf8')) as RawConfig;
    return await resultFrom(
      raw,
      manifest[0]!.Layers.map((l) => async () => createReadStream(join(dir, l))),
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// Comparing

/** What tcbuild is held to: expected.json with the case's newer-BuildKit corrections. */
export function expectedForTcbuild(c: Case, expected: Expected): Expected {
  const fix = c.meta.newerBuildkit;
  if (!fix) return expected;
  const out = JSON.parse(JSON.stringify(expected)) as Expected;
  for (const [p, e] of Object.entries(fix.files ?? {})) {
    if (e === null) delete out.files[p];
    else out.files[p] = e;
  }
  for (const [i, h] of Object.entries(fix.history ?? {})) out.config.history[Number(i)] = h;
  return out;
}

/** JSON with object keys sorted: key order carries no meaning in a config. */
function canon(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) =>
    x && typeof x === 'object' && !Array.isArray(x)
      ? Object.fromEntries(
          Object.entries(x as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
        )
      : x,
  );
}

/** Human-readable differences between an expected and an actual result (empty when they agree). */
export function compareResults(expected: Expected, actual: Expected): string[] {
  const diffs: string[] = [];
  const e = expected.config;
  const a = actual.config;
  for (const k of ['architecture', 'os', 'layers'] as const) {
    if (JSON.stringify(e[k]) !== JSON.stringify(a[k]))
      diffs.push(`config ${k}: expected ${JSON.stringify(e[k])}, got ${JSON.stringify(a[k])}`);
  }
  for (const k of new Set([...Object.keys(e.config), ...Object.keys(a.config)])) {
    if (canon(e.config[k]) !== canon(a.config[k])) {
      diffs.push(`config.${k}: expected ${JSON.stringify(e.config[k])}, got ${JSON.stringify(a.config[k])}`);
    }
  }
  const n = Math.max(e.history.length, a.history.length);
  for (let i = 0; i < n; i++) {
    if (JSON.stringify(e.history[i]) !== JSON.stringify(a.history[i])) {
      diffs.push(`history[${i}]: expected ${JSON.stringify(e.history[i])}, got ${JSON.stringify(a.history[i])}`);
    }
  }
  for (const p of [...new Set([...Object.keys(expected.files), ...Object.keys(actual.files)])].sort()) {
    const x = expected.files[p];
    const y = actual.files[p];
    if (JSON.stringify(x) !== JSON.stringify(y))
      diffs.push(
        `/${p}: expected ${JSON.stringify(x) ?? 'unchanged from base'}, got ${JSON.stringify(y) ?? 'unchanged from base'}`,
      );
  }
  return diffs;
}

// ---------------------------------------------------------------------------------------------
// Running the builders

export interface BuildRun {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export function runCommand(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
  cwd?: string,
): Promise<BuildRun> {
  const start = Date.now();
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { env, cwd: cwd ?? REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code, stdout, stderr, ms: Date.now() - start }));
  });
}

/** Builds a case with bin/tcbuild into `root`, as `image`. */
export async function tcbuildBuild(
  c: Case,
  root: string,
  image: string,
  base: string,
  workParent: string,
): Promise<{ run: BuildRun; result?: Expected }> {
  const { work, dockerfile, context } = await prepareCase(c, workParent);
  try {
    const args = ['build', '--progress', 'plain', '-f', dockerfile, '-t', image, ...buildFlags(c, work, base), context];
    const env = { ...process.env, TCBUILD_ROOT: root };
    let run = await runCommand(TCBUILD, args, env);
    if (run.code === 0 && c.meta.buildTwice) run = await runCommand(TCBUILD, args, env);
    if (run.code !== 0) return { run };
    return { run, result: await tcbuildResult(root, image) };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

export interface Docker {
  bin: string;
  env: NodeJS.ProcessEnv;
}

/** Builds a case with `docker build` (BuildKit) as `image`. */
export async function dockerBuild(
  docker: Docker,
  c: Case,
  image: string,
  base: string,
  workParent: string,
): Promise<{ run: BuildRun; result?: Expected }> {
  const { work, dockerfile, context } = await prepareCase(c, workParent);
  try {
    const args = [
      'build',
      '--network',
      'host',
      '--progress',
      'plain',
      '-f',
      dockerfile,
      '-t',
      image,
      ...buildFlags(c, work, base),
      context,
    ];
    let run = await runCommand(docker.bin, args, docker.env);
    if (run.code === 0 && c.meta.buildTwice) run = await runCommand(docker.bin, args, docker.env);
    if (run.code !== 0) return { run };
    return { run, result: await dockerResult(docker, image, workParent) };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

const PEERS_WORK = process.env.PEERS_WORK ?? '/tmp/tcbuild-peers';

/** Installs Debian's docker.io when missing and starts a dockerd on a private socket (host network only). */
export async function startDocker(): Promise<Docker> {
  const bin = '/usr/bin/docker';
  if (!existsSync(bin) || !existsSync('/usr/sbin/dockerd')) {
    process.stdout.write('installing docker.io (apt-get)...\n');
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    let r = await runCommand('apt-get', ['update', '-qq'], env);
    if (r.code !== 0) throw new Error(`apt-get update failed:\n${r.stderr}`);
    r = await runCommand('apt-get', ['install', '-y', '-qq', 'docker.io'], env);
    if (r.code !== 0) throw new Error(`apt-get install docker.io failed:\n${r.stderr}`);
  }
  await mkdir(PEERS_WORK, { recursive: true });
  const host = `unix://${PEERS_WORK}/docker.sock`;
  const env = { ...process.env, DOCKER_HOST: host, DOCKER_BUILDKIT: '1' };
  if ((await runCommand(bin, ['version'], env)).code !== 0) {
    const log = await import('node:fs').then((fs) => fs.openSync(join(PEERS_WORK, 'dockerd.log'), 'a'));
    const child = spawn(
      '/usr/sbin/dockerd',
      [
        '--iptables=false',
        '--ip6tables=false',
        '--bridge=none',
        '--data-root',
        join(PEERS_WORK, 'data'),
        '--exec-root',
        join(PEERS_WORK, 'exec'),
        '--pidfile',
        join(PEERS_WORK, 'dockerd.pid'),
        '-H',
        host,
      ],
      { detached: true, stdio: ['ignore', log, log] },
    );
    child.unref();
    for (let i = 0; i < 150; i++) {
      if ((await runCommand(bin, ['version'], env)).code === 0) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    if ((await runCommand(bin, ['version'], env)).code !== 0)
      throw new Error(`dockerd did not start; see ${join(PEERS_WORK, 'dockerd.log')}`);
  }
  return { bin, env };
}

// ---------------------------------------------------------------------------------------------
// npm run conformance

async function main(argv: string[]): Promise<number> {
  const update = argv.includes('--update');
  const withTcbuild = !argv.includes('--no-tcbuild');
  const withDocker = !argv.includes('--no-docker');
  const draftDocs = argv.includes('--draft-docs');
  const filter: string[] = [];
  for (let i = 0; i < argv.length; i++) if (argv[i] === '--case') filter.push(argv[++i]!);
  const cases = await listCases(filter);
  const docker = withDocker ? await startDocker() : undefined;
  const { startRegistry } = await import('../test/helpers/registry.js');
  const { loadFixture, pushFixture } = await import('./fixtures.js');
  const registry = await startRegistry();
  const scratch = await mkdtemp(join(tmpdir(), 'tcbuild-conformance-'));
  const root = join(scratch, 'root');
  let failures = 0;
  try {
    const dockerBase = await pushFixture(`${registry.host}/busybox:latest`);
    if (withTcbuild) await loadFixture('busybox:latest', root);
    if (docker)
      process.stdout.write(
        `docker: ${(await runCommand(docker.bin, ['version', '--format', '{{.Server.Version}}'], docker.env)).stdout.trim()}; base ${dockerBase}\n`,
      );
    for (const c of cases) {
      const lines: string[] = [];
      let status = 'ok';
      let dockerRes: Expected | undefined;
      if (docker && c.meta.source === 'buildkit-docker.io') {
        const d = await dockerBuild(docker, c, `tcbuild-conformance/${c.name}`, dockerBase, scratch);
        if (!d.result) {
          status = 'FAIL';
          lines.push(`docker build failed:\n${d.run.stderr.split('\n').slice(-15).join('\n')}`);
        } else {
          dockerRes = d.result;
          if (update) {
            await writeFile(join(c.dir, 'expected.json'), `${JSON.stringify(dockerRes, null, 2)}\n`);
            c.expected = dockerRes;
            lines.push('expected.json written from docker build');
          } else if (!c.expected) {
            status = 'FAIL';
            lines.push('no expected.json (run with --update)');
          } else {
            const diffs = compareResults(c.expected, dockerRes);
            if (diffs.length) {
              status = 'FAIL';
              lines.push('docker differs from expected.json:', ...diffs.map((d) => `  ${d}`));
            }
          }
        }
      }
      if (withTcbuild) {
        const t = await tcbuildBuild(c, root, `tcbuild-conformance/${c.name}:latest`, 'busybox:latest', scratch);
        const reference = dockerRes
          ? expectedForTcbuild(c, dockerRes)
          : c.expected
            ? expectedForTcbuild(c, c.expected)
            : undefined;
        if (t.result && !reference && draftDocs && c.meta.source === 'buildkit-docs') {
          await writeFile(join(c.dir, 'expected.json'), `${JSON.stringify(t.result, null, 2)}\n`);
          lines.push('DRAFT expected.json written from tcbuild: check it against the BuildKit documentation');
        } else if (!reference) {
          status = 'FAIL';
          lines.push('no expected.json');
        }
        if (!t.result) {
          status = status === 'FAIL' ? status : c.meta.todo ? 'todo' : 'FAIL';
          lines.push(`tcbuild build failed:\n${t.run.stderr.split('\n').slice(-10).join('\n')}`);
        } else if (reference) {
          const diffs = compareResults(reference, t.result);
          if (diffs.length) {
            status = status === 'FAIL' ? status : c.meta.todo ? 'todo' : 'FAIL';
            lines.push(
              `tcbuild differs from ${dockerRes ? 'docker build' : 'expected.json (BuildKit docs)'}:`,
              ...diffs.map((d) => `  ${d}`),
            );
          } else if (c.meta.todo) {
            lines.push('tcbuild now agrees: drop "todo" from meta.json');
          }
        }
      }
      if (status === 'FAIL') failures++;
      process.stdout.write(
        `${status.padEnd(4)} ${c.name} [${c.meta.source}]\n${lines.map((l) => `     ${l}\n`).join('')}`,
      );
    }
  } finally {
    await registry.stop();
    await rm(scratch, { recursive: true, force: true });
  }
  process.stdout.write(`${cases.length} cases, ${failures} failing\n`);
  return failures ? 1 : 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
      process.exit(1);
    },
  );
}
