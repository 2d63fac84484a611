import assert from 'node:assert/strict';
import { readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, it } from 'node:test';
import { REPO, run } from '../helpers/cli.js';

const NEEDS_ROOT = process.getuid?.() !== 0 ? 'builds need root' : false;

/** The first ```js block of a Markdown file. */
function firstJsBlock(markdown: string): string {
  const match = /```js\n([\s\S]*?)```/.exec(markdown);
  assert.ok(match, 'docs/library.md has a ```js example');
  return match[1]!;
}

describe('docs/library.md', { skip: NEEDS_ROOT }, () => {
  it('its example runs as written and does what it prints', { timeout: 180_000 }, async (t) => {
    const example = firstJsBlock(await readFile(join(REPO, 'docs', 'library.md'), 'utf8'));
    const entry = pathToFileURL(join(REPO, 'dist', 'src', 'index.js')).href;
    const program = example.replace(/from 'tcbuild'/, `from '${entry}'`);
    const r = await run(process.execPath, ['--input-type=module', '-e', program]);
    assert.equal(r.code, 0, r.stderr);

    const digest = /^built (sha256:[0-9a-f]{64})$/m.exec(r.stdout)?.[1];
    assert.ok(digest, r.stdout);
    assert.match(r.stdout, new RegExp(`^stored docker.io/example/hello:1 ${digest}$`, 'm'));
    assert.match(r.stdout, new RegExp(`^stored docker.io/example/hello:latest ${digest}$`, 'm'));
    assert.match(r.stdout, /^cmd \["\/hello.txt"\]$/m);
    assert.match(r.stdout, /^untagged: image "example\/hello:latest" is not in the local store$/m);
    const work = /^work (.+)$/m.exec(r.stdout)?.[1];
    assert.ok(work);
    t.after(() => rm(work, { recursive: true, force: true }));
    const layoutIndex = JSON.parse(await readFile(join(work, 'layout', 'index.json'), 'utf8')) as {
      manifests: unknown[];
    };
    assert.equal(layoutIndex.manifests.length, 1, 'copy wrote the image into the OCI layout');
    assert.ok((await stat(join(work, 'hello.tar'))).size > 0, 'save wrote the archive');
  });
});
