import { sha256, type Digest } from '../image/digest.js';
import type { Platform } from '../image/types.js';

/**
 * The build graph. Each vertex is one operation that yields a filesystem (a snapshot); its digest
 * is the sha256 of its canonical JSON with its inputs replaced by their digests, so identical work
 * anywhere in a build — or in an earlier build — has the same name.
 */
export type Vertex = ScratchVertex | ImageVertex | ExecVertex | CopyVertex | MkdirVertex | GitVertex;

/** What a COPY or a bind mount can read from. */
export type Source = Vertex | ContextSource | InlineSource | HttpSource;

export interface ScratchVertex {
  op: 'scratch';
}

/** A base image, already resolved to the manifest digest of one platform. */
export interface ImageVertex {
  op: 'image';
  ref: string;
  manifest: Digest;
  platform: Platform;
}

/** ADD of a git repository: one commit's files, the ref resolved to `commit` before solving. */
export interface GitVertex {
  op: 'git';
  /** As git takes it; may hold credentials (see redactGitUrl before showing it). */
  remote: string;
  /** The ref that named the commit (`refs/heads/main`), or the commit itself. */
  ref: string;
  commit: string;
  subdir: string;
  keepGitDir: boolean;
  submodules: boolean;
  mtime: 'commit' | 'checkout';
}

export interface ExecVertex {
  op: 'exec';
  input: Vertex;
  args: string[];
  env: string[];
  cwd: string;
  user: string;
  /** 'private': a network of its own with outbound NAT; 'host' needs the network.host entitlement. */
  network: 'private' | 'host' | 'none';
  /** 'insecure' (RUN --security=insecure, the security.insecure entitlement): a privileged container. */
  security: 'sandbox' | 'insecure';
  /** The platform the command's binaries are for; one the host cannot run natively runs under emulation. */
  platform: Platform;
  /** RUN --mount: what is mounted where for this command only (never part of its layer). */
  mounts: ExecMount[];
  /** What the progress output and errors call this step, e.g. `RUN make` at Dockerfile:7. */
  description: StepDescription;
}

/** RUN --mount, as BuildKit's Dockerfile frontend defines the types. */
export type ExecMount =
  | { type: 'bind'; target: string; source: Vertex | ContextSource; path: string; readwrite: boolean }
  | {
      type: 'cache';
      target: string;
      id: string;
      sharing: 'shared' | 'private' | 'locked';
      readonly: boolean;
      mode: number;
      uid: number;
      gid: number;
      /** Seeds a new cache directory with this filesystem's `path`. */
      source: Vertex | ContextSource | undefined;
      path: string;
    }
  | { type: 'tmpfs'; target: string; size: number | undefined }
  /**
   * A secret at `target` (none when empty), and/or in the environment variable `env`; ssh: an agent socket. Never their
   * contents.
   */
  | {
      type: 'secret' | 'ssh';
      target: string;
      id: string;
      required: boolean;
      mode: number;
      uid: number;
      gid: number;
      env: string | undefined;
    };

/** Files from a source (another vertex's filesystem, or the build context) into the input. */
export interface CopyVertex {
  op: 'copy';
  input: Vertex;
  source: Vertex | ContextSource | InlineSource | HttpSource;
  sources: string[];
  dest: string;
  chown: string | undefined;
  chmod: string | undefined;
  /** ADD: local archives are unpacked into `dest`. */
  unpack: boolean;
  /** --link: the layer is made without looking at the input's files. */
  link: boolean;
  /** --parents: each source keeps its path (from a `/./` in it, else from the root) under `dest`. */
  parents: boolean;
  /** --exclude patterns, matched against paths inside each source. */
  excludes: string[];
  description: StepDescription;
}

export interface MkdirVertex {
  op: 'mkdir';
  input: Vertex;
  path: string;
  /** The USER in effect: directories WORKDIR creates belong to it, as in BuildKit ('' = root). */
  user: string;
  description: StepDescription;
}

/** A local directory (the build context or a named one); what a step reads from it is checksummed by the solver. */
export interface ContextSource {
  op: 'context';
  name: string;
  /** The host directory: not part of the definition. */
  dir: string;
  /** .dockerignore patterns: not part of the definition (the checksum covers what is read). */
  excludes: string[];
}

/** ADD of an http(s) URL: one file named `filename`. */
export interface HttpSource {
  op: 'http';
  url: string;
  /** --checksum, e.g. sha256:…; when given, the download is verified against it. */
  checksum: string | undefined;
  filename: string;
}

/** Files given inline (COPY heredocs): name → content. */
export interface InlineSource {
  op: 'inline';
  files: { name: string; content: string }[];
}

export interface StepDescription {
  file: string;
  line: number;
  text: string;
  /** The stage's name, or its index when it has none (for --no-cache-filter). */
  stage: string;
}

const digests = new WeakMap<object, Digest>();

/** The vertex's definition digest (memoized; descriptions and host paths are not part of it). */
export function vertexDigest(v: Source): Digest {
  const cached = digests.get(v);
  if (cached) return cached;
  const d = sha256(canonicalJson(definition(v)));
  digests.set(v, d);
  return d;
}

function definition(v: Source): unknown {
  switch (v.op) {
    case 'scratch':
    case 'image':
    case 'inline':
    case 'http':
      return v;
    case 'git':
      // The ref only matters where a kept .git names it (as in BuildKit's cache key).
      return v.keepGitDir ? v : { ...v, ref: '' };
    case 'context':
      return { op: v.op, name: v.name };
    case 'exec':
    case 'copy':
    case 'mkdir': {
      const { description: _description, ...rest } = v;
      const inputs: Record<string, unknown> = { input: vertexDigest(v.input) };
      if (v.op === 'copy') inputs['source'] = vertexDigest(v.source);
      if (v.op === 'exec') inputs['mounts'] = v.mounts.map(mountDefinition);
      return { ...rest, ...inputs };
    }
  }
}

function mountDefinition(m: ExecMount): unknown {
  return 'source' in m && m.source !== undefined ? { ...m, source: vertexDigest(m.source) } : m;
}

/** JSON with object keys sorted, so equal values always give equal bytes. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      return Object.fromEntries(
        Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
      );
    }
    return v;
  });
}
