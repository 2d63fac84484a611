import { convert } from '../../src/frontend/convert.js';
import { toStages } from '../../src/frontend/instructions.js';
import { parseDockerfile } from '../../src/frontend/parse.js';
import { digestHex, sha256 } from '../../src/image/digest.js';
import { withCreatedTimes } from '../../src/image/history-times.js';
import { MediaType, layerCompressionOf } from '../../src/image/media-types.js';
import { parseConfig, parseIndex, parseManifest } from '../../src/image/parse.js';
import { selectPlatform } from '../../src/image/platform-select.js';
import type { Descriptor, ImageConfig } from '../../src/image/types.js';
import type { FuzzTarget } from '../target.js';

/** What a build does with a base image's config: every field a Dockerfile reads or extends. */
const ON_TOP = toStages(
  parseDockerfile(
    'FROM base\nARG A=1\nENV PATH=/x:$PATH B=$A\nWORKDIR sub\nUSER 1:2\nLABEL l=v\nEXPOSE 80/udp\nVOLUME /v\nRUN echo $HOME\nCOPY a b\nSHELL ["/bin/bash", "-c"]\nONBUILD RUN x\nHEALTHCHECK CMD true\nCMD run\nENTRYPOINT ["e"]\n',
    'Dockerfile',
  ),
);

async function buildOnTop(config: ImageConfig): Promise<void> {
  await convert(ON_TOP, {
    buildArgs: new Map(),
    target: undefined,
    platform: { os: 'linux', architecture: 'amd64' },
    buildPlatform: { os: 'linux', architecture: 'amd64' },
    context: { op: 'context', name: 'context', dir: '/ctx', excludes: [] },
    sourceDateEpoch: undefined,
    network: 'private',
    warn: () => undefined,
    resolveImage: async (ref, platform) => ({ vertex: { op: 'image', ref, manifest: sha256(ref), platform }, config }),
  });
  withCreatedTimes(config, ['2024-01-01T00:00:00Z'], new Date(0));
}

function descriptors(...ds: (Descriptor | undefined)[]): void {
  for (const d of ds) {
    if (!d) continue;
    digestHex(d.digest);
    layerCompressionOf(d.mediaType);
  }
}

const KINDS = ['manifest', 'index', 'config'] as const;

/**
 * Manifests, indexes and configs as registries and archives send them (src/image/parse.ts), and
 * what tcbuild then does with a document that passed: digests become file names, an index
 * yields a platform, a config is the base of a build. The first byte picks the kind.
 */
export const target: FuzzTarget = {
  description:
    'manifests, indexes and configs (src/image/parse.ts) and their first users: platform choice, a build on a config',
  async fuzz(data) {
    const kind = KINDS[(data[0] ?? 0) % KINDS.length]!;
    const raw = data.subarray(1);
    if (kind === 'manifest') {
      const m = parseManifest(raw, 'the fuzzed manifest');
      descriptors(m.config, ...m.layers);
    } else if (kind === 'index') {
      const index = parseIndex(raw, 'the fuzzed index');
      descriptors(...index.manifests);
      selectPlatform(index.manifests, { os: 'linux', architecture: 'arm64' }, 'the fuzzed index');
    } else {
      await buildOnTop(parseConfig(raw, 'the fuzzed config'));
    }
  },
  seeds: () => {
    const d = (mediaType: string, data: string, extra: object = {}) => ({
      mediaType,
      digest: sha256(data),
      size: data.length,
      ...extra,
    });
    const manifest = {
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: d(MediaType.ociConfig, 'config'),
      layers: [
        d(MediaType.ociLayerGzip, 'l1'),
        d(MediaType.ociLayerZstd, 'l2'),
        d(MediaType.dockerLayerGzip, 'l3', { urls: ['http://x'] }),
      ],
      annotations: { a: 'b' },
    };
    const index = {
      schemaVersion: 2,
      mediaType: MediaType.ociIndex,
      manifests: [
        d(MediaType.ociManifest, 'm1', { platform: { os: 'linux', architecture: 'amd64' } }),
        d(MediaType.dockerManifest, 'm2', { platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } }),
        d(MediaType.ociManifest, 'att', { platform: { os: 'unknown', architecture: 'unknown' } }),
      ],
    };
    const config = {
      architecture: 'amd64',
      os: 'linux',
      created: '2024-01-01T00:00:00Z',
      config: {
        Env: ['PATH=/usr/bin:/bin', 'HOME=/root'],
        Cmd: ['sh'],
        Entrypoint: null,
        WorkingDir: '/w',
        User: 'app',
        Labels: { k: 'v' },
        ExposedPorts: { '80/tcp': {} },
        Volumes: { '/data': {} },
        OnBuild: ['RUN echo base'],
        Healthcheck: { Test: ['CMD', 'true'], Interval: 1000000000 },
        Shell: ['/bin/sh', '-c'],
        StopSignal: 'SIGTERM',
      },
      rootfs: { type: 'layers', diff_ids: [sha256('l1'), sha256('l2')] },
      history: [
        { created: '2024-01-01T00:00:00Z', created_by: 'a' },
        { created_by: 'b', empty_layer: true },
        { created_by: 'c' },
      ],
    };
    return [manifest, index, config].map((doc, i) =>
      Buffer.concat([Buffer.from([i]), Buffer.from(JSON.stringify(doc, null, 1))]),
    );
  },
  dictionary: [
    '{',
    '}',
    '[',
    ']',
    '"',
    ':',
    ',',
    'null',
    'true',
    '0',
    '-1',
    '1e309',
    '"sha256:',
    '"sha512:',
    '"mediaType"',
    '"digest"',
    '"size"',
    '"platform"',
    '"layers"',
    '"manifests"',
    '"config"',
    '"Env"',
    '"Cmd"',
    '"Entrypoint"',
    '"OnBuild"',
    '"Healthcheck"',
    '"Shell"',
    '"User"',
    '"WorkingDir"',
    '"Labels"',
    '"ExposedPorts"',
    '"Volumes"',
    '"history"',
    '"rootfs"',
    '"diff_ids"',
    '"empty_layer"',
    '"created"',
    '"__proto__"',
    '"constructor"',
    '"os"',
    '"architecture"',
    '"variant"',
    '"subject"',
  ],
  maxLength: 8192,
};
