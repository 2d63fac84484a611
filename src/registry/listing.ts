import { TcbuildError } from '../errors.js';
import type { Transport } from './transport.js';
import { displayUrl, header, readText, serverUrl } from './transport.js';

const PAGE_SIZE = 1000;
const MAX_PAGE_BYTES = 16 * 1024 * 1024;

/** The target of a `Link: <…>; rel="next"` header (RFC 8288), if any. */
export function nextLink(link: string | undefined): string | undefined {
  for (const part of (link ?? '').split(/,(?=\s*<)/)) {
    const match = /^\s*<([^>]*)>\s*;(.*)$/.exec(part);
    if (match && /(?:^|;)\s*rel="?next"?\s*(?:;|$)/.test(match[2]!)) return match[1];
  }
  return undefined;
}

/** Every item of a paginated list endpoint (tags/list, _catalog), following Link headers. */
export async function listAll(
  transport: Transport,
  start: string,
  key: 'tags' | 'repositories',
  scopes: string[],
  what: string,
): Promise<string[]> {
  const items: string[] = [];
  const seen = new Set<string>();
  for (let path: string | undefined = `${start}?n=${PAGE_SIZE}`; path !== undefined; ) {
    if (seen.has(path)) throw new TcbuildError(`${what}: the registry's pages loop back to ${displayUrl(path)}`);
    seen.add(path);
    const res = await transport.request({ method: 'GET', path, scopes, what, expect: [200] });
    const next = nextLink(header(res.headers, 'link'));
    let page: Record<string, unknown>;
    try {
      page = JSON.parse(await readText(res.body, MAX_PAGE_BYTES)) as Record<string, unknown>;
    } catch {
      throw new TcbuildError(`${what}: the registry answered something that is not a JSON list`);
    }
    const list = page[key];
    if (list !== null && list !== undefined && !Array.isArray(list))
      throw new TcbuildError(`${what}: the registry's answer has no "${key}" list`);
    items.push(...((list ?? []) as string[]));
    path = next === undefined ? undefined : serverUrl(next, res.url, what).href;
  }
  return items;
}
