import { vertexDigest, type Vertex } from './vertex.js';

/** Every vertex reachable from the roots (inputs and copy sources), each once. */
export function allVertices(roots: Vertex[]): Vertex[] {
  const seen = new Map<string, Vertex>();
  const visit = (v: Vertex): void => {
    const digest = vertexDigest(v);
    if (seen.has(digest)) return;
    seen.set(digest, v);
    if ('input' in v) visit(v.input);
    if (v.op === 'copy' && v.source.op !== 'context' && v.source.op !== 'inline' && v.source.op !== 'http') visit(v.source);
    if (v.op === 'exec') for (const m of v.mounts) if ((m.type === 'bind' || m.type === 'cache') && m.source && m.source.op !== 'context') visit(m.source);
  };
  roots.forEach(visit);
  return [...seen.values()];
}
