import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidInputError } from '../../src/errors.js';
import { parseGitUrl, redactGitUrl } from '../../src/frontend/git-url.js';

describe('git URLs as BuildKit reads them', () => {
  it('reads the remote, the ref and the subdir of #ref:subdir in every transport', () => {
    const cases: [string, string, string, string][] = [
      [
        'https://github.com/moby/buildkit.git#v0.10.1:frontend/dockerfile',
        'https://github.com/moby/buildkit.git',
        'v0.10.1',
        'frontend/dockerfile',
      ],
      ['http://127.0.0.1:8080/repo.git', 'http://127.0.0.1:8080/repo.git', '', ''],
      ['git://host/org/repo.git#main', 'git://host/org/repo.git', 'main', ''],
      [
        'ssh://git@host:2222/repo.git#refs/tags/v1:/sub/dir/',
        'ssh://git@host:2222/repo.git',
        'refs/tags/v1',
        'sub/dir',
      ],
      ['git@github.com:org/repo.git#feature/x:app', 'git@github.com:org/repo.git', 'feature/x', 'app'],
      ['git@host:repo', 'git@host:repo', '', ''],
      ['https://host/repo.git#:../../etc', 'https://host/repo.git', '', 'etc'],
    ];
    for (const [text, remote, ref, subdir] of cases) {
      const url = parseGitUrl(text);
      assert.ok(url, text);
      assert.deepEqual({ remote: url.remote, ref: url.ref, subdir: url.subdir }, { remote, ref, subdir }, text);
    }
  });

  it('is undefined for what is not a git URL: local paths, http URLs not ending in .git, other schemes', () => {
    for (const text of [
      '.',
      './repo.git',
      '/srv/repo.git',
      'https://example.com/archive.tar.gz',
      'https://example.com/repo',
      'ftp://host/repo.git',
      'docker-image://busybox',
      'C:repo',
    ]) {
      assert.equal(parseGitUrl(text), undefined, text);
    }
  });

  it('takes the query form: branch, tag, subdir, checksum, keep-git-dir, submodules, mtime', () => {
    const url = parseGitUrl(
      'https://host/repo.git?branch=dev&subdir=app&checksum=ABC123&keep-git-dir=true&submodules=false&mtime=checkout',
    );
    assert.deepEqual(url, {
      remote: 'https://host/repo.git',
      ref: 'refs/heads/dev',
      subdir: 'app',
      keepGitDir: true,
      submodules: false,
      checksum: 'abc123',
      mtime: 'checkout',
    });
    assert.equal(parseGitUrl('git@host:repo.git?tag=v1')?.ref, 'refs/tags/v1');
    assert.equal(parseGitUrl('https://host/repo.git?keep-git-dir')?.keepGitDir, true);
    assert.equal(parseGitUrl('https://host/repo.git#main')?.keepGitDir, undefined);
  });

  it('refuses queries it does not know, conflicting refs and bad values, naming the URL without its credentials', () => {
    const bad: [string, RegExp][] = [
      ['https://host/repo.git?color=red', /unexpected query "color"/],
      ['https://host/repo.git?branch=a&tag=b', /branch conflicts with tag/],
      ['https://host/repo.git?ref=a#b', /ref conflicts: "b" and "a"/],
      ['https://host/repo.git?checksum=xyz', /invalid checksum "xyz"/],
      ['https://host/repo.git?submodules=maybe', /invalid submodules value "maybe"/],
      ['https://host/repo.git?ref=', /query "ref" has no value/],
      ['https://user:secret@host/repo.git?mtime=now', /invalid mtime value "now"/],
    ];
    for (const [text, message] of bad) {
      assert.throws(
        () => parseGitUrl(text),
        (err: unknown) =>
          err instanceof InvalidInputError && message.test(err.message) && !err.message.includes('secret'),
        text,
      );
    }
  });

  it('redacts credentials', () => {
    assert.equal(redactGitUrl('https://user:token@host/repo.git'), 'https://host/repo.git');
    assert.equal(redactGitUrl('git@host:repo.git'), 'git@host:repo.git');
  });
});
