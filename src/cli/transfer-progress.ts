import type { ProgressEvent } from '../registry/index.js';
import { formatBytes } from './format.js';

/**
 * One status line for a transfer, redrawn in place on a terminal: blobs moved, skipped and
 * mounted, bytes so far. Nothing when the output is not a TTY (scripts read stdout only).
 */
export function transferProgress(out: NodeJS.WriteStream = process.stderr): ((event: ProgressEvent) => void) | undefined {
  if (!out.isTTY) return undefined;
  const counts = { 'blob-upload': 0, 'blob-download': 0, 'blob-skip': 0, 'blob-mount': 0, manifest: 0 };
  let bytes = 0;
  process.once('exit', () => out.write('\n'));
  return (event) => {
    counts[event.kind]++;
    if (event.kind !== 'blob-skip' && event.kind !== 'blob-mount') bytes += event.bytes ?? 0;
    const moved = counts['blob-upload'] + counts['blob-download'];
    out.write(`\r\x1b[K${event.ref}: ${moved} blobs copied (${formatBytes(bytes)}), ${counts['blob-skip']} already there, ${counts['blob-mount']} mounted, ${counts.manifest} manifests`);
  };
}
