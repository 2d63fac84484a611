/**
 * The name of the file an `ADD <url>` downloads, as BuildKit chooses it: the `filename` of a
 * Content-Disposition header, else the URL's last path element (percent-decoded), else "index".
 * Whatever the server or the URL says, the result is one path element: never empty, `.`, `..`,
 * and never holding `/` or NUL.
 */
export function downloadName(url: URL, contentDisposition?: string | null): string {
  const fromHeader = contentDisposition ? dispositionFileName(contentDisposition) : undefined;
  if (fromHeader !== undefined && !fromHeader.endsWith('/')) {
    const name = safeElement(lastElement(fromHeader));
    if (name !== undefined) return name;
  }
  return safeElement(lastElement(percentDecoded(url.pathname))) ?? 'index';
}

/** The last element of a slash-separated path, trailing slashes ignored (Go's path.Base). */
function lastElement(path: string): string {
  const trimmed = path.replace(/\/+$/, '');
  return trimmed.slice(trimmed.lastIndexOf('/') + 1);
}

function safeElement(name: string): string | undefined {
  return name === '' || name === '.' || name === '..' || name.includes('\0') ? undefined : name;
}

/** `%2F` becomes `/` here, so that it separates elements as it does in BuildKit's decoded URL path. */
function percentDecoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** The `filename*` (RFC 5987) or `filename` parameter of a Content-Disposition value. */
function dispositionFileName(header: string): string | undefined {
  const params = new Map<string, string>();
  const param = /;\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;\s]*)/g;
  for (const [, key, raw] of header.matchAll(param)) {
    const value = raw!.startsWith('"') ? raw!.slice(1, -1).replace(/\\(.)/g, '$1') : raw!;
    params.set(key!.toLowerCase(), value);
  }
  const extended = params.get('filename*');
  if (extended !== undefined) {
    const match = /^([^']*)'[^']*'(.*)$/.exec(extended);
    if (match && /^(utf-8|us-ascii)$/i.test(match[1]!)) return percentDecoded(match[2]!);
  }
  const plain = params.get('filename');
  return plain === '' ? undefined : plain;
}
