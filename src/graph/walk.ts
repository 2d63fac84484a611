import { vertexDigest, type Vertex } from './vertex.js';

/** Every vertex reachable from the roots (inputs and copy sources), each once. */
export function allVertices(roots: Vertex[]): Vertex[] {
  const seen = new Map<string, Vertex>();
  const visit = (v: Vertex): void => {
    const digest = vertexDigest(v);
    if (seen.has(digest)) return;
    seen.set(digest, v);
    if ('input' in v) visit(v.input);
    if (v.op === 'copy' && 'op' in v.source && v.source.op !== 'context' && v.source.op !== 'inline') visit(v.source as Vertex);
  };
  roots.forEach(visit);
  return [...seen.values()];
}
