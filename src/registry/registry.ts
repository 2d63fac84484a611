import pLimit from 'p-limit';
import type { Dispatcher } from 'undici';
import { DigestMismatchError } from '../errors.js';
import type { Digest } from '../image/digest.js';
import { topDescriptor, type ImageOrIndex } from '../image/image.js';
import { openImageOrIndex } from '../image/source-image.js';
import type { Descriptor } from '../image/types.js';
import { pullScope, pushScope } from './auth.js';
import type { Progress } from '../progress/progress.js';
import type { TransferContext } from './context.js';
import { createDispatcher } from './dispatcher.js';
import { dockerConfigPath, loadCredentials, type Credentials } from './docker-config.js';
import { listAll } from './listing.js';
import { deleteManifest, fetchManifest, headManifest, type FetchedManifest } from './manifest.js';
import { pushImageOrIndex } from './push.js';
import type { Reference } from './reference.js';
import { formatReference } from './reference.js';
import { listReferrers, type Referrer } from './referrers.js';
import { remoteSource } from './remote-source.js';
import type { RemoteRepository } from './repository.js';
import { DEFAULT_RETRY, type RetryPolicy } from './retry.js';
import { certsDir, hostTls } from './tls.js';
import { Transport } from './transport.js';
import { DEFAULT_UPLOAD, type UploadOptions } from './upload.js';

export interface RegistryOptions {
  /** Skip TLS verification (--tls-verify=false); also lets any host fall back to plain HTTP. */
  insecure?: boolean;
  /** Hosts to speak plain HTTP to; loopback hosts fall back to HTTP by themselves when TLS fails to connect. */
  plainHttpHosts?: string[];
  /** Parallel blob transfers, default 4. */
  concurrency?: number;
  /** Receives a TransferEvent per blob and manifest moved. */
  progress?: Progress;
  /** The docker config.json holding `auths`; default $DOCKER_CONFIG/config.json or ~/.docker/config.json. */
  authConfigPath?: string;
  /**
   * Docker's certs.d root (HOST[:PORT]/ca.crt, client.cert, client.key); default $TCBUILD_CERTS_DIR or
   * /etc/docker/certs.d.
   */
  certsDir?: string;
  retry?: Partial<RetryPolicy>;
  /**
   * Chunked uploads: PATCH chunks of `chunkSize` bytes always, or only for blobs above `chunkedAbove` (default 1 GiB).
   */
  upload?: Partial<UploadOptions>;
}

const DEFAULT_CONCURRENCY = 4;

/** A distribution-spec client: one connection pool per registry host it talks to. */
export class Registry {
  private readonly transports = new Map<string, Promise<Transport>>();
  private readonly dispatchers: Dispatcher[] = [];
  private readonly context: TransferContext;

  constructor(private readonly opts: RegistryOptions = {}) {
    const progress = opts.progress;
    this.context = {
      limit: pLimit(opts.concurrency ?? DEFAULT_CONCURRENCY),
      retry: { ...DEFAULT_RETRY, ...opts.retry },
      upload: { ...DEFAULT_UPLOAD, ...opts.upload },
      progress: (event) => progress?.emit(event),
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

  /** The manifest or index exactly as the registry holds it, verified against its digest. */
  async rawManifest(ref: Reference): Promise<FetchedManifest> {
    const fetched = await fetchManifest(await this.repository(ref, 'pull'), manifestReference(ref));
    checkPinnedDigest(ref, fetched.descriptor);
    return fetched;
  }

  /** Lazily reads a remote image or index; every blob read is verified by size + digest while streaming. */
  async get(ref: Reference): Promise<ImageOrIndex> {
    const repo = await this.repository(ref, 'pull');
    const { descriptor, raw } = await this.rawManifest(ref);
    return openImageOrIndex(remoteSource(repo), descriptor, raw);
  }

  /**
   * Pushes blobs (HEAD first; skip existing; mount from the source repository on the same
   * registry; p-limit parallel), then manifests, then the index; tags ref.tag (or pushes by
   * digest). Returns the pushed top-level descriptor.
   */
  async push(ref: Reference, source: ImageOrIndex): Promise<Descriptor> {
    checkPinnedDigest(ref, topDescriptor(source));
    return pushImageOrIndex(await this.repository(ref, 'push'), ref.tag, source, this.context);
  }

  /** Every tag of the repository, all pages. */
  async listTags(ref: Reference): Promise<string[]> {
    const repo = await this.repository(ref, 'pull');
    return listAll(repo.transport, `/v2/${repo.name}/tags/list`, 'tags', repo.scopes, `the tags of ${repo.display}`);
  }

  /** Every repository of the registry (the _catalog endpoint), all pages. */
  async catalog(registry: string): Promise<string[]> {
    return listAll(
      await this.transport(registry),
      '/v2/_catalog',
      'repositories',
      ['registry:catalog:*'],
      `the catalog of ${registry}`,
    );
  }

  /**
   * Deletes the manifest a reference names (a tag is resolved first: every tag on that manifest goes). Returns its
   * digest.
   */
  async delete(ref: Reference): Promise<Digest> {
    const digest = ref.digest ?? (await this.resolve(ref)).digest;
    await deleteManifest(await this.repository(ref, 'delete'), digest);
    return digest;
  }

  /** Manifests whose subject is `ref`'s manifest: the referrers API, or the tag-schema fallback. */
  async referrers(ref: Reference, artifactType?: string): Promise<Referrer[]> {
    const digest = ref.digest ?? (await this.resolve(ref)).digest;
    return listReferrers(await this.repository(ref, 'pull'), digest, artifactType);
  }

  /** Checks credentials against a registry (GET /v2/ with them), as `docker login` does before storing them. */
  async checkLogin(registry: string, credentials: Credentials): Promise<void> {
    const transport = await this.newTransport(registry, credentials);
    const res = await transport.request({
      method: 'GET',
      path: '/v2/',
      scopes: [],
      what: `the registry ${registry}`,
      expect: [200],
    });
    await res.body.dump();
  }

  async close(): Promise<void> {
    await Promise.all(this.dispatchers.map((d) => d.close()));
  }

  /** @internal the limiter, retry policy and progress sink pushes and pulls share. */
  transferContext(): TransferContext {
    return this.context;
  }

  private async repository(ref: Reference, access: 'pull' | 'push' | 'delete'): Promise<RemoteRepository> {
    const scope =
      access === 'pull'
        ? pullScope(ref.repository)
        : access === 'push'
          ? pushScope(ref.repository)
          : `repository:${ref.repository}:delete`;
    return {
      transport: await this.transport(ref.registry),
      name: ref.repository,
      display: `${ref.registry}/${ref.repository}`,
      scopes: [scope],
    };
  }

  private transport(registry: string): Promise<Transport> {
    let transport = this.transports.get(registry);
    if (!transport) {
      transport = loadCredentials(registry, this.opts.authConfigPath ?? dockerConfigPath()).then((credentials) =>
        this.newTransport(registry, credentials),
      );
      transport.catch(() => this.transports.delete(registry));
      this.transports.set(registry, transport);
    }
    return transport;
  }

  private async newTransport(registry: string, credentials: Credentials | undefined): Promise<Transport> {
    const agent = await createDispatcher(
      await hostTls(registry, this.opts.certsDir ?? certsDir()),
      !this.opts.insecure,
    );
    this.dispatchers.push(agent);
    return new Transport(registry, {
      agent,
      insecure: this.opts.insecure ?? false,
      plainHttpHosts: this.opts.plainHttpHosts ?? [],
      credentials,
      retry: this.context.retry,
    });
  }
}

function manifestReference(ref: Reference): string {
  return ref.digest ?? ref.tag ?? 'latest';
}

/** A reference with both tag and digest means "this tag, and it must be this digest". */
function checkPinnedDigest(ref: Reference, descriptor: Descriptor): void {
  if (ref.digest && ref.digest !== descriptor.digest) {
    throw new DigestMismatchError(
      `${formatReference(ref)} is pinned to ${ref.digest}, but the image is ${descriptor.digest}`,
    );
  }
}
