import type { OciLayout } from '../content/layout.js';
import type { Descriptor } from '../image/types.js';

/** Copies every blob reachable from `root` from one layout to another, verifying each as it lands. */
export async function copyBlobs(from: OciLayout, to: OciLayout, root: Descriptor): Promise<void> {
  for (const [digest, size] of await from.reachableBlobs([root])) {
    if (await to.blobs.has(digest)) continue;
    await to.blobs.ingest(await from.blobs.read(digest), { digest, size });
  }
}
