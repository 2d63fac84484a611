import pLimit from 'p-limit';
import { Agent } from 'undici';
import { DigestMismatchError } from '../errors.js';
import type { ImageOrIndex } from '../image/image.js';
import { isIndexMediaType } from '../image/media-types.js';
import type { Descriptor } from '../image/types.js';
import { pullScope, pushScope } from './auth.js';
import type { ProgressEvent, TransferContext } from './context.js';
import { dockerConfigPath, loadCredentials } from './docker-config.js';
import { fetchManifest, headManifest } from './manifest.js';
import { pushImageOrIndex } from './push.js';
import type { Reference } from './reference.js';
import { formatReference } from './reference.js';
import { RemoteImage, RemoteIndex } from './remote-image.js';
import type { RemoteRepository } from './repository.js';
import { DEFAULT_RETRY, type RetryPolicy } from './retry.js';
import { Transport } from './transport.js';

export interface RegistryOptions {
  /** Skip TLS verification (--tls-verify=false); also lets any host fall back to plain HTTP. */
  insecure?: boolean;
  /** Hosts to speak plain HTTP to; loopback hosts fall back to HTTP by themselves when TLS fails to connect. */
  plainHttpHosts?: string[];
  /** Parallel blob transfers, default 4. */
  concurrency?: number;
  onProgress?: (event: ProgressEvent) => void;
  /** The docker config.json holding `auths`; default $DOCKER_CONFIG/config.json or ~/.docker/config.json. */
  authConfigPath?: string;
  retry?: Partial<RetryPolicy>;
}

const DEFAULT_CONCURRENCY = 4;

/** A distribution-spec client: one connection pool for every registry it talks to. */
export class Registry {
  private readonly agent: Agent;
  private readonly transports = new Map<string, Promise<Transport>>();
  private readonly context: TransferContext;

  constructor(private readonly opts: RegistryOptions = {}) {
    this.agent = new Agent({ connect: { rejectUnauthorized: !opts.insecure }, keepAliveTimeout: 30_000 });
    const onProgress = opts.onProgress;
    this.context = {
      limit: pLimit(opts.concurrency ?? DEFAULT_CONCURRENCY),
      retry: { ...DEFAULT_RETRY, ...opts.retry },
      progress: (event) => onProgress?.(event),
    };
  }

  /** Resolves a reference to the descriptor of its manifest or index (HEAD, falling back to GET). */
  async resolve(ref: Reference): Promise<Descriptor> {
    const repo = await this.repository(ref, 'pull');
    const reference = manifestReference(ref);
    const descriptor = (await headManifest(repo, reference)) ?? (await fetchManifest(repo, reference)).descriptor;
    checkPinnedDigest(ref, descriptor);
    return descriptor;
  }

  /** Lazily reads a remote image or index; every blob read is verified by size + digest while streaming. */
  async get(ref: Reference): Promise<ImageOrIndex> {
    const repo = await this.repository(ref, 'pull');
    const { descriptor, raw } = await fetchManifest(repo, manifestReference(ref));
    checkPinnedDigest(ref, descriptor);
    return isIndexMediaType(descriptor.mediaType)
      ? { kind: 'index', index: new RemoteIndex(repo, descriptor, raw) }
      : { kind: 'image', image: new RemoteImage(repo, descriptor, raw) };
  }

  /**
   * Pushes blobs (HEAD first; skip existing; p-limit parallel; monolithic POST+PUT upload), then
   * manifests, then the index; tags ref.tag (or pushes by digest). Returns the pushed top-level descriptor.
   */
  async push(ref: Reference, source: ImageOrIndex): Promise<Descriptor> {
    const top = source.kind === 'image' ? source.image.descriptor : source.index.descriptor;
    checkPinnedDigest(ref, top);
    return pushImageOrIndex(await this.repository(ref, 'push'), ref.tag, source, this.context);
  }

  async close(): Promise<void> {
    await this.agent.close();
  }

  /** @internal the limiter, retry policy and progress sink pushes and pulls share. */
  transferContext(): TransferContext {
    return this.context;
  }

  private async repository(ref: Reference, access: 'pull' | 'push'): Promise<RemoteRepository> {
    return {
      transport: await this.transport(ref.registry),
      name: ref.repository,
      display: `${ref.registry}/${ref.repository}`,
      scopes: [access === 'pull' ? pullScope(ref.repository) : pushScope(ref.repository)],
    };
  }

  private transport(registry: string): Promise<Transport> {
    let transport = this.transports.get(registry);
    if (!transport) {
      transport = loadCredentials(registry, this.opts.authConfigPath ?? dockerConfigPath()).then(
        (credentials) =>
          new Transport(registry, {
            agent: this.agent,
            insecure: this.opts.insecure ?? false,
            plainHttp: this.opts.plainHttpHosts?.includes(registry) ?? false,
            credentials,
            retry: this.context.retry,
          }),
      );
      transport.catch(() => this.transports.delete(registry));
      this.transports.set(registry, transport);
    }
    return transport;
  }
}

function manifestReference(ref: Reference): string {
  return ref.digest ?? ref.tag ?? 'latest';
}

/** A reference with both tag and digest means "this tag, and it must be this digest". */
function checkPinnedDigest(ref: Reference, descriptor: Descriptor): void {
  if (ref.digest && ref.digest !== descriptor.digest) {
    throw new DigestMismatchError(`${formatReference(ref)} is pinned to ${ref.digest}, but the image is ${descriptor.digest}`);
  }
}
