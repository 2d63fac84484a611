import { formatBytes } from './format-bytes.js';
import type { Progress, ProgressEvent } from './progress.js';

/**
 * push, pull and copy on a terminal: one status line redrawn in place — blobs moved, skipped and
 * mounted, bytes so far. Nothing when the output is not a TTY (scripts read stdout only).
 */
export function transferLine(out: NodeJS.WriteStream = process.stderr): Progress | undefined {
  if (!out.isTTY) return undefined;
  const counts = { 'blob-upload': 0, 'blob-download': 0, 'blob-skip': 0, 'blob-mount': 0, manifest: 0 };
  let bytes = 0;
  process.once('exit', () => out.write('\n'));
  return {
    emit(event: ProgressEvent) {
      if (!(event.kind in counts)) return;
      const kind = event.kind as keyof typeof counts;
      counts[kind]++;
      if (kind !== 'blob-skip' && kind !== 'blob-mount' && 'bytes' in event) bytes += event.bytes ?? 0;
      const moved = counts['blob-upload'] + counts['blob-download'];
      const ref = 'ref' in event ? event.ref : '';
      out.write(
        `\r\x1b[K${ref}: ${moved} blobs copied (${formatBytes(bytes)}), ${counts['blob-skip']} already there, ` +
          `${counts['blob-mount']} mounted, ${counts.manifest} manifests`,
      );
    },
  };
}
