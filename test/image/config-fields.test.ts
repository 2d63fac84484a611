import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { convert } from '../../src/frontend/convert.js';
import { toStages } from '../../src/frontend/instructions.js';
import { parseDockerfile } from '../../src/frontend/parse.js';
import { InvalidInputError } from '../../src/errors.js';
import { sha256 } from '../../src/image/digest.js';
import { parseConfig } from '../../src/image/parse.js';
import type { ImageConfig } from '../../src/image/types.js';

const config = (doc: object) =>
  Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, ...doc }));

async function buildOn(base: ImageConfig) {
  return convert(toStages(parseDockerfile('FROM base\nENV A=1\nWORKDIR w\nCMD x\n', 'Dockerfile')), {
    buildArgs: new Map(),
    target: undefined,
    platform: { os: 'linux', architecture: 'amd64' },
    buildPlatform: { os: 'linux', architecture: 'amd64' },
    context: { op: 'context', name: 'context', dir: '/ctx', excludes: [] },
    sourceDateEpoch: 0,
    network: 'private',
    warn: () => undefined,
    resolveImage: async (ref, platform) => ({
      vertex: { op: 'image', ref, manifest: sha256(ref), platform },
      config: base,
    }),
  });
}

// Found by the image-documents fuzz target: a base config without rootfs, or with a field of
// another type, passed the parser and then failed inside the build with a TypeError.
describe('image configs from registries and archives: the fields a build reads', () => {
  it('a config without rootfs or config builds as a base with no layers and no settings', async () => {
    const base = parseConfig(Buffer.from('{"architecture":"amd64","os":"linux"}'), 'the config');
    const plan = await buildOn(base);
    assert.deepEqual(plan.baseDiffIds, []);
    assert.equal(plan.config.config.WorkingDir, '/w');
  });

  const hostile: [string, object, RegExp][] = [
    ['Env a string', { config: { Env: 'PATH=/bin' } }, /config\.Env is not a list of strings/],
    ['Env with a number', { config: { Env: ['A=1', 2] } }, /config\.Env is not a list of strings/],
    ['Cmd an object', { config: { Cmd: { 0: 'sh' } } }, /config\.Cmd is not a list of strings/],
    ['OnBuild a string', { config: { OnBuild: 'RUN x' } }, /config\.OnBuild is not a list of strings/],
    ['WorkingDir a list', { config: { WorkingDir: ['/'] } }, /config\.WorkingDir is not a string/],
    ['Labels with a number', { config: { Labels: { a: 1 } } }, /config\.Labels\["a"\] is not a string/],
    ['Volumes a list', { config: { Volumes: ['/v'] } }, /config\.Volumes is not a JSON object/],
    [
      'ExposedPorts with a string',
      { config: { ExposedPorts: { '80/tcp': 'x' } } },
      /config\.ExposedPorts\["80\/tcp"\] is not a JSON object/,
    ],
    [
      'Healthcheck.Test a string',
      { config: { Healthcheck: { Test: 'CMD true' } } },
      /config\.Healthcheck\.Test is not a list of strings/,
    ],
    ['config a string', { config: 'x' }, /config is not a JSON object/],
    ['history an object', { history: { created_by: 'x' } }, /history is not a list/],
    ['a history entry a string', { history: ['x'] }, /history\[0\] is not a JSON object/],
    ['empty_layer a string', { history: [{ empty_layer: 'yes' }] }, /history\[0\]\.empty_layer is not true or false/],
    ['created a number', { created: 0 }, /created is not a string/],
  ];
  for (const [name, doc, message] of hostile) {
    it(`refuses a config with ${name}, naming the field`, () => {
      assert.throws(
        () => parseConfig(config(doc), 'the config of registry.example/app'),
        (err: Error) => {
          assert.ok(err instanceof InvalidInputError, `${err.constructor.name}: ${err.message}`);
          assert.match(err.message, /^the config of registry\.example\/app is not a valid image config: /);
          assert.match(err.message, message);
          return true;
        },
      );
    });
  }

  it('takes null where Docker writes it', () => {
    const parsed = parseConfig(
      config({ config: { Cmd: null, Entrypoint: null, OnBuild: null, Labels: null, Healthcheck: { Test: null } } }),
      'the config',
    );
    assert.equal(parsed.config.Cmd, null);
  });
});
