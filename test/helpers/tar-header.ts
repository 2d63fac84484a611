import { writeChecksum } from '../../src/snapshot/tar-format.js';

/** A ustar header block of `type` whose size field says `size` (the data need not follow: a reader must refuse first). */
export function claimingTarHeader(name: string, type: string, size: number): Buffer {
  const block = Buffer.alloc(512);
  block.write(name, 0, 100);
  block.write('0000644\0', 100);
  block.write('0000000\0', 108);
  block.write('0000000\0', 116);
  block.write(`${size.toString(8).padStart(11, '0')}\0`, 124);
  block.write('00000000000\0', 136);
  block.write(type, 156);
  block.write('ustar\x0000', 257);
  writeChecksum(block);
  return block;
}
