import {
  BLOCK_SIZE,
  META_TYPEFLAGS,
  decodeHeaderBlock,
  isZeroBlock,
  paddingFor,
  writeChecksum,
} from '../src/snapshot/tar-format.js';

/**
 * A copy of `data` with every tar header's checksum made right, walking the archive as the
 * readers do, so that mutations reach what comes after the checksum check.
 */
export function sealTarHeaders(data: Buffer): Buffer {
  const tar = Buffer.from(data);
  for (let at = 0; at + BLOCK_SIZE <= tar.length; ) {
    const block = tar.subarray(at, at + BLOCK_SIZE);
    if (isZeroBlock(block)) break;
    writeChecksum(block);
    let size: number;
    try {
      const { typeflag, entry } = decodeHeaderBlock(block);
      size = META_TYPEFLAGS.has(typeflag) || entry.type === 'file' || entry.type === 'hardlink' ? entry.size : 0;
    } catch {
      break;
    }
    at += BLOCK_SIZE + size + paddingFor(size);
  }
  return tar;
}
