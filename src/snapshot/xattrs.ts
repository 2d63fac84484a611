import { fsOps } from './native.js';
import { isOverlayXattr } from './whiteout.js';

const CAPABILITY_XATTR = 'security.capability';

/**
 * The extended attributes a layer carries and an applier restores: file capabilities (which
 * containerd's and docker's differs keep) and the `user.` namespace. Everything else an image could
 * name (trusted.*, security.selinux, system.*, overlay's own) is the host's business and never set
 * from a layer.
 */
export function isLayerXattr(name: string): boolean {
  return name === CAPABILITY_XATTR || (name.startsWith('user.') && !isOverlayXattr(name));
}

/** The layer xattrs of a host path (not following a final symlink). */
export function layerXattrsOf(absPath: string): Map<string, Buffer> {
  const ops = fsOps();
  const xattrs = new Map<string, Buffer>();
  for (const name of ops.llistxattr(absPath)) {
    if (!isLayerXattr(name)) continue;
    const value = ops.lgetxattr(absPath, name);
    if (value) xattrs.set(name, value);
  }
  return xattrs;
}

/** Sets the layer xattrs among `xattrs` on a host path; after its owner, whose change clears capabilities. */
export function setLayerXattrs(absPath: string, xattrs: Iterable<[string, Buffer]>): void {
  const ops = fsOps();
  for (const [name, value] of xattrs) if (isLayerXattr(name)) ops.lsetxattr(absPath, name, value);
}

/**
 * COPY's share of a file's xattrs: its capabilities, the only ones BuildKit's layers keep of what
 * COPY copies. After the copy's owner is set: a chown clears them.
 */
export function copyFileCapabilities(fromPath: string, toPath: string): void {
  const value = fileCapabilitiesOf(fromPath);
  if (value) fsOps().lsetxattr(toPath, CAPABILITY_XATTR, value);
}

/** A file's security.capability value, or null. */
export function fileCapabilitiesOf(absPath: string): Buffer | null {
  return fsOps().lgetxattr(absPath, CAPABILITY_XATTR);
}
