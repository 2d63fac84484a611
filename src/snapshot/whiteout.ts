import { fsOps } from './native.js';

/**
 * The two spellings of "deleted" and "replaced": OCI layer tars say `.wh.NAME` and
 * `DIR/.wh..wh..opq`; overlayfs says a 0/0 character device and an opaque xattr on the directory.
 */

export const WHITEOUT_PREFIX = '.wh.';
export const OPAQUE_WHITEOUT = '.wh..wh..opq';
/** `.wh..wh.*` names other than the opaque marker are aufs bookkeeping (e.g. `.wh..wh.plnk`). */
export const WHITEOUT_META_PREFIX = '.wh..wh.';

export const OVERLAY_OPAQUE_XATTR = 'trusted.overlay.opaque';
/** The same marker on overlays mounted with `userxattr` (rootless). */
const OVERLAY_USER_OPAQUE_XATTR = 'user.overlay.opaque';

/** overlayfs' own attributes: never copied into a layer nor accepted from one. */
export function isOverlayXattr(name: string): boolean {
  return name.startsWith('trusted.overlay.') || name.startsWith('user.overlay.');
}

export function isOverlayWhiteout(stat: { isCharacterDevice(): boolean; rdev: number | bigint }): boolean {
  return stat.isCharacterDevice() && Number(stat.rdev) === 0;
}

export function isOpaqueDir(path: string): boolean {
  const ops = fsOps();
  return [OVERLAY_OPAQUE_XATTR, OVERLAY_USER_OPAQUE_XATTR].some(
    (name) => ops.lgetxattr(path, name)?.toString() === 'y',
  );
}
