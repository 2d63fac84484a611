import { readlinkSync, type Stats } from 'node:fs';
import pLimit from 'p-limit';
import { createHash } from 'node:crypto';
import type { Digest } from '../image/digest.js';
import type { StepDescription } from '../graph/vertex.js';
import type { SourceTree } from './context-view.js';
import { excludeMatcher, selectSources, walkTree } from './copy-sources.js';
import type { FileHashCache } from './file-hash-cache.js';
import { fileCapabilitiesOf } from '../snapshot/xattrs.js';

/** Files hashed at once when the cache does not know them. */
const PARALLEL_READS = 32;

export interface ChecksumRequest {
  sources: readonly string[];
  parents: boolean;
  excludes: readonly string[];
  at: StepDescription;
}

/**
 * A digest of exactly what a COPY (or a bind mount) reads from a local directory: each selected
 * path, its type and permission bits, and its content (symlink target, or file bytes by way of
 * the hash cache, and file capabilities, which COPY keeps). Owners and times are left out: a COPY from the context
 * resets owners, and an
 * mtime-only change must not invalidate the step.
 */
export async function contextChecksum(tree: SourceTree, req: ChecksumRequest, hashes: FileHashCache): Promise<Digest> {
  const excludes = excludeMatcher(req.excludes);
  const entries: { path: string; st: Stats; header?: string }[] = [];
  for (const { named, path, keep } of selectSources(tree, req.sources, {
    parents: req.parents,
    excludes,
    at: req.at,
  })) {
    const st = tree.lstat(path)!;
    entries.push({ path, st, header: `source ${named} ${path} ${keep ?? ''}\n` });
    if (st.isDirectory()) {
      for (const entry of walkTree(tree, path, excludes))
        entries.push({ path: entry.path, st: tree.lstat(entry.path)! });
    }
  }
  const limit = pLimit(PARALLEL_READS);
  const contents = await Promise.all(
    entries.map(({ path, st }) => {
      if (st.isSymbolicLink()) return readlinkSync(tree.hostPath(path)!);
      if (!st.isFile()) return '';
      const host = tree.hostPath(path)!;
      const capabilities = fileCapabilitiesOf(host);
      const withCapabilities = (digest: string) =>
        capabilities ? `${digest}\0cap=${capabilities.toString('hex')}` : digest;
      const known = hashes.known(host, st);
      return known !== undefined
        ? withCapabilities(known)
        : limit(async () => withCapabilities(await hashes.hash(host, st)));
    }),
  );
  const hash = createHash('sha256');
  for (const [i, { path, st, header }] of entries.entries()) {
    if (header) hash.update(header);
    hash.update(`${path}\0${st.mode.toString(8)}\0${contents[i]}\n`);
  }
  await hashes.save();
  return `sha256:${hash.digest('hex')}`;
}
