import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidInputError } from '../../src/errors.js';
import type { Digest } from '../../src/image/digest.js';
import { familiarName, formatReference, parseReference } from '../../src/registry/reference.js';

const DIGEST: Digest = `sha256:${'ab'.repeat(32)}`;

describe('parseReference', () => {
  const cases: [string, ReturnType<typeof parseReference>][] = [
    ['busybox', { registry: 'docker.io', repository: 'library/busybox', tag: 'latest' }],
    ['busybox:1.36', { registry: 'docker.io', repository: 'library/busybox', tag: '1.36' }],
    ['team/app', { registry: 'docker.io', repository: 'team/app', tag: 'latest' }],
    ['docker.io/busybox', { registry: 'docker.io', repository: 'library/busybox', tag: 'latest' }],
    ['index.docker.io/library/busybox:1', { registry: 'docker.io', repository: 'library/busybox', tag: '1' }],
    ['localhost/app', { registry: 'localhost', repository: 'app', tag: 'latest' }],
    ['localhost:5000/team/app:1.2', { registry: 'localhost:5000', repository: 'team/app', tag: '1.2' }],
    ['127.0.0.1:5000/app', { registry: '127.0.0.1:5000', repository: 'app', tag: 'latest' }],
    ['registry.example.com/a/b/c:v1', { registry: 'registry.example.com', repository: 'a/b/c', tag: 'v1' }],
    ['[::1]:5000/app:2', { registry: '[::1]:5000', repository: 'app', tag: '2' }],
    ['[fe80::1]/app', { registry: '[fe80::1]', repository: 'app', tag: 'latest' }],
    [`app@${DIGEST}`, { registry: 'docker.io', repository: 'library/app', digest: DIGEST }],
    [`localhost:5000/app:1@${DIGEST}`, { registry: 'localhost:5000', repository: 'app', tag: '1', digest: DIGEST }],
    ['Example.COM/app', { registry: 'Example.COM', repository: 'app', tag: 'latest' }],
    ['my_org/app-name__x.y', { registry: 'docker.io', repository: 'my_org/app-name__x.y', tag: 'latest' }],
  ];
  for (const [input, expected] of cases) {
    it(`parses ${input}`, () => assert.deepEqual(parseReference(input), expected));
  }

  const bad: [string, RegExp][] = [
    ['', /empty/],
    ['team/App', /must be lowercase/],
    ['app:', /not a valid tag/],
    ['app:-x', /not a valid tag/],
    [`app:${'x'.repeat(129)}`, /not a valid tag/],
    ['app@sha256:abc', /not a valid sha256 digest/],
    ['localhost:5000/', /repository name is empty/],
    ['a//b', /not a valid name component/],
    ['app-/x', /not a valid name component/],
    ['local host/app', /not a valid/],
    ['[::1/app', /not a valid registry host/],
    ['localhost:port/app', /not a valid registry host/],
  ];
  for (const [input, why] of bad) {
    it(`rejects ${JSON.stringify(input)}`, () => {
      assert.throws(
        () => parseReference(input),
        (err: Error) => {
          assert.ok(err instanceof InvalidInputError, String(err));
          assert.match(err.message, why);
          assert.ok(err.message.includes(`"${input}"`));
          return true;
        },
      );
    });
  }
});

describe('formatReference and familiarName', () => {
  it('round-trips the full form', () => {
    for (const input of ['localhost:5000/team/app:1', `docker.io/library/busybox@${DIGEST}`, '[::1]:5000/app:2']) {
      assert.equal(formatReference(parseReference(input)), input);
    }
  });
  it('shortens docker.io names as docker does', () => {
    assert.equal(familiarName(parseReference('busybox')), 'busybox:latest');
    assert.equal(familiarName(parseReference('docker.io/team/app:1')), 'team/app:1');
    assert.equal(familiarName(parseReference('localhost:5000/app:1')), 'localhost:5000/app:1');
  });
});
