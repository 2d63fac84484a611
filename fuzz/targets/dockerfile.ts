import { convert, type ConvertOptions } from '../../src/frontend/convert.js';
import { toStages } from '../../src/frontend/instructions.js';
import { parseDockerfile } from '../../src/frontend/parse.js';
import { sha256 } from '../../src/image/digest.js';
import { parseReference } from '../../src/registry/reference.js';
import { filesUnder, type FuzzTarget } from '../target.js';

/** Image lookups answer at once, as the store would for any valid reference. */
const options: ConvertOptions = {
  buildArgs: new Map([
    ['VERSION', '1.0'],
    ['EMPTY', ''],
  ]),
  target: undefined,
  platform: { os: 'linux', architecture: 'arm64', variant: 'v8' },
  buildPlatform: { os: 'linux', architecture: 'amd64' },
  context: { op: 'context', name: 'context', dir: '/ctx', excludes: [] },
  namedContexts: new Map([['named', { kind: 'image', ref: 'busybox:named' }]]),
  sourceDateEpoch: 0,
  network: 'private',
  warn: () => undefined,
  resolveImage: async (ref, platform) => {
    parseReference(ref);
    return {
      vertex: { op: 'image', ref, manifest: sha256(ref), platform },
      config: {
        architecture: platform.architecture,
        os: platform.os,
        config: { Env: ['PATH=/usr/bin:/bin'], Cmd: ['sh'], WorkingDir: '/' },
        rootfs: { type: 'layers', diff_ids: [sha256(`layer of ${ref}`)] },
        history: [{ created_by: 'base' }],
      },
    };
  },
};

/** The Dockerfile frontend end to end: parse, type the instructions, convert to a build graph. */
export const target: FuzzTarget = {
  description: 'Dockerfiles (src/frontend parse.ts, instructions.ts, convert.ts) to a build graph',
  async fuzz(data) {
    await convert(toStages(parseDockerfile(data.toString('utf8'), 'Dockerfile')), options);
  },
  seeds: () => [
    ...filesUnder('test/conformance/dockerfiles', (name) => name === 'Dockerfile' || name.endsWith('.Dockerfile')),
    ...filesUnder('fixtures/hello', (name) => name === 'Dockerfile'),
  ],
  dictionary: [
    'FROM ',
    'AS ',
    'RUN ',
    'CMD ',
    'ENTRYPOINT ',
    'COPY ',
    'ADD ',
    'ENV ',
    'ARG ',
    'LABEL ',
    'EXPOSE ',
    'VOLUME ',
    'USER ',
    'WORKDIR ',
    'SHELL ',
    'STOPSIGNAL ',
    'HEALTHCHECK ',
    'ONBUILD ',
    'MAINTAINER ',
    '# syntax=',
    '# escape=`',
    '\\\n',
    '`\n',
    '--from=',
    '--chown=',
    '--chmod=',
    '--link',
    '--parents',
    '--exclude=',
    '--checksum=',
    '--keep-git-dir',
    '--platform=',
    '--mount=',
    'type=bind',
    'type=cache',
    'type=tmpfs',
    'type=secret',
    'type=ssh',
    'source=',
    'target=',
    'from=',
    '--network=',
    '--security=',
    '--interval=',
    '--retries=',
    '<<EOF\n',
    '<<-"EOF"\n',
    'EOF\n',
    '${',
    '}',
    ':-',
    ':+',
    '?',
    '$VERSION',
    '$TARGETARCH',
    '$BUILDPLATFORM',
    '["',
    '", "',
    '"]',
    '=',
    '"',
    "'",
    'scratch',
    'named',
    'http://x/a%2Fb',
  ],
  maxLength: 8192,
};
