import { redactGitUrl } from '../frontend/git-url.js';
import { vertexDigest, type Vertex } from './vertex.js';

/** The vertices a vertex reads: its input, a COPY's source, a RUN's bind and cache mount sources. */
function dependencies(v: Vertex): Vertex[] {
  const deps: Vertex[] = [];
  if ('input' in v) deps.push(v.input);
  if (v.op === 'copy' && v.source.op !== 'context' && v.source.op !== 'inline' && v.source.op !== 'http')
    deps.push(v.source);
  if (v.op === 'exec')
    for (const m of v.mounts)
      if ((m.type === 'bind' || m.type === 'cache') && m.source && m.source.op !== 'context') deps.push(m.source);
  return deps;
}

/** Every vertex reachable from the roots, each once, dependencies before the vertices that use them. */
export function allVertices(roots: Vertex[]): Vertex[] {
  const seen = new Set<string>();
  const ordered: Vertex[] = [];
  const visit = (v: Vertex): void => {
    const digest = vertexDigest(v);
    if (seen.has(digest)) return;
    seen.add(digest);
    dependencies(v).forEach(visit);
    ordered.push(v);
  };
  roots.forEach(visit);
  return ordered;
}

/** `tcbuild build --print-graph`: one line per vertex, dependencies first, named by digest prefix. */
export function formatGraph(roots: Vertex[]): string {
  const short = (v: Vertex) => vertexDigest(v).slice('sha256:'.length, 'sha256:'.length + 12);
  return allVertices(roots)
    .map((v) => {
      const what =
        v.op === 'image'
          ? `${v.ref}@${v.manifest}`
          : v.op === 'git'
            ? `${redactGitUrl(v.remote)}#${v.ref}@${v.commit}${v.subdir ? `:${v.subdir}` : ''}`
            : v.op === 'scratch'
              ? ''
              : `${v.description.file}:${v.description.line} ${v.description.text}`;
      const deps = dependencies(v).map(short);
      return `${short(v)} ${v.op.padEnd(7)} ${what}${deps.length ? `  <- ${deps.join(' ')}` : ''}\n`;
    })
    .join('');
}
