import { sha256, type Digest } from '../image/digest.js';
import type { Platform } from '../image/types.js';

/**
 * The build graph. Each vertex is one operation that yields a filesystem (a snapshot); its digest
 * is the sha256 of its canonical JSON with its inputs replaced by their digests, so identical work
 * anywhere in a build — or in an earlier build — has the same name.
 */
export type Vertex = ScratchVertex | ImageVertex | ExecVertex | CopyVertex | MkdirVertex;

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

export interface ExecVertex {
  op: 'exec';
  input: Vertex;
  args: string[];
  env: string[];
  cwd: string;
  user: string;
  network: 'host' | 'none';
  /** The platform the command's binaries are for; one the host cannot run natively runs under emulation. */
  platform: Platform;
  /** What the progress output and errors call this step, e.g. `RUN make` at Dockerfile:7. */
  description: StepDescription;
}

/** Files from a source (another vertex's filesystem, or the build context) into the input. */
export interface CopyVertex {
  op: 'copy';
  input: Vertex;
  source: Vertex | ContextSource | InlineSource;
  sources: string[];
  dest: string;
  chown: string | undefined;
  chmod: string | undefined;
  description: StepDescription;
}

export interface MkdirVertex {
  op: 'mkdir';
  input: Vertex;
  path: string;
  description: StepDescription;
}

export interface ContextSource {
  op: 'context';
  name: string;
  /** Digest of the contents the copy reads; filled in by the solver, never part of the definition. */
  dir: string;
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
}

const digests = new WeakMap<object, Digest>();

/** The vertex's definition digest (memoized; descriptions and host paths are not part of it). */
export function vertexDigest(v: Vertex | ContextSource | InlineSource): Digest {
  const cached = digests.get(v);
  if (cached) return cached;
  const d = sha256(canonicalJson(definition(v)));
  digests.set(v, d);
  return d;
}

function definition(v: Vertex | ContextSource | InlineSource): unknown {
  switch (v.op) {
    case 'scratch':
    case 'image':
    case 'inline':
      return v;
    case 'context':
      return { op: v.op, name: v.name };
    case 'exec':
    case 'copy':
    case 'mkdir': {
      const { description: _description, ...rest } = v;
      const inputs: Record<string, unknown> = { input: vertexDigest(v.input) };
      if (v.op === 'copy') inputs['source'] = vertexDigest(v.source);
      return { ...rest, ...inputs };
    }
  }
}

/** JSON with object keys sorted, so equal values always give equal bytes. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      return Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    }
    return v;
  });
}
