import type { IncomingMessage, ServerResponse } from 'node:http';
import { sha256 } from '../../src/image/digest.js';
import { startFakeServer } from '../helpers/registry.js';

export interface FakeContent {
  /** By tag or digest. */
  manifests: Map<string, { mediaType: string; raw: Buffer }>;
  blobs: Map<string, Buffer>;
}

export interface FakeRegistry {
  host: string;
  requests: { method: string; url: string; authorization: string | undefined }[];
  stop(): Promise<void>;
}

/**
 * A read-only registry serving `content` for any repository, for behaviour a real registry will
 * not show: `intercept` may answer a request itself (return true) before the normal handling.
 */
export async function startFakeRegistry(
  content: FakeContent,
  intercept: (
    req: IncomingMessage,
    res: ServerResponse,
    host: string,
    body: Buffer,
  ) => boolean | Promise<boolean> = () => false,
  tls?: { key: string; cert: string },
): Promise<FakeRegistry> {
  const requests: FakeRegistry['requests'] = [];
  let host = '';
  const server = await startFakeServer(async (req, res, body) => {
    requests.push({ method: req.method!, url: req.url!, authorization: req.headers.authorization });
    if (await intercept(req, res, host, body)) return;
    const url = new URL(req.url!, `http://${host}`);
    if (url.pathname === '/v2/') return void res.end('{}');
    const manifest = /^\/v2\/.+\/manifests\/([^/]+)$/.exec(url.pathname);
    const entry = manifest && content.manifests.get(manifest[1]!);
    if (entry) {
      res.writeHead(200, {
        'content-type': entry.mediaType,
        'docker-content-digest': sha256(entry.raw),
        'content-length': entry.raw.length,
      });
      return void res.end(req.method === 'HEAD' ? undefined : entry.raw);
    }
    const blob = /^\/v2\/.+\/blobs\/(sha256:[a-f0-9]{64})$/.exec(url.pathname);
    const bytes = blob && content.blobs.get(blob[1]!);
    if (bytes) {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': bytes.length });
      return void res.end(req.method === 'HEAD' ? undefined : bytes);
    }
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ errors: [{ code: manifest ? 'MANIFEST_UNKNOWN' : 'BLOB_UNKNOWN', message: 'unknown' }] }));
  }, tls);
  host = server.host;
  return { host, requests, stop: server.stop };
}
