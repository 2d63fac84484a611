import { TcbuildError } from '../errors.js';
import type { Mount } from './snapshotter.js';

/** mount(2) takes file-system data of at most one page. */
export const MOUNT_DATA_LIMIT = 4096;

/**
 * Overlay features whose on-disk traces (redirect and metacopy xattrs, an inode index) the differ
 * does not read: turned off so an upper dir only ever holds whole files, whiteouts and opaque dirs.
 */
const OVERLAY_FEATURES_OFF = ['index=off', 'redirect_dir=off', 'metacopy=off'];

export function bindMount(source: string, readonly: boolean): Mount {
  return { type: 'bind', source, destination: '/', options: ['rbind', readonly ? 'ro' : 'rw'] };
}

export interface OverlayDirs {
  /** Directory the other paths are relative to. */
  base: string;
  /** Lower dirs, top first. */
  lowers: string[];
  /** Upper and work dir for a writable overlay; none for a read-only one. */
  upper?: { upper: string; work: string };
}

/**
 * An overlay mount with absolute paths when they fit in one page, else with paths relative to
 * `dirs.base` and `cwd` set (as Docker's overlay2 does).
 */
export function overlayMount(dirs: OverlayDirs): Mount {
  for (const relative of [false, true]) {
    const path = (p: string): string => (relative ? p : `${dirs.base}/${p}`);
    const options = [
      ...(dirs.upper ? [] : ['ro']),
      ...OVERLAY_FEATURES_OFF,
      `lowerdir=${dirs.lowers.map(path).join(':')}`,
      ...(dirs.upper ? [`upperdir=${path(dirs.upper.upper)}`, `workdir=${path(dirs.upper.work)}`] : []),
    ];
    if (mountDataSize(options) <= MOUNT_DATA_LIMIT) {
      return { type: 'overlay', source: 'overlay', destination: '/', options, ...(relative ? { cwd: dirs.base } : {}) };
    }
  }
  throw new TcbuildError(`a chain of ${dirs.lowers.length} layers is too deep to mount as one overlay`, {
    hint: 'squash the image or build from a base with fewer layers',
  });
}

/** Bytes of mount data, counting its terminating NUL. */
export function mountDataSize(options: string[]): number {
  return Buffer.byteLength(options.join(',')) + 1;
}
