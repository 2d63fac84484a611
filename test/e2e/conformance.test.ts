/**
 * The Dockerfile conformance set (test/conformance/dockerfiles/): every case is built with
 * bin/tcbuild from the busybox fixture and its file tree and image config are compared with the
 * stored expectations, which come from a real BuildKit (`npm run conformance`) or, for syntax newer
 * than Debian's BuildKit, from the BuildKit documentation (meta.json says which). Cases tcbuild does
 * not match yet are `todo`, with the exact difference as the reason.
 *
 * One store root for all cases, so the base is unpacked once and steps shared between cases are
 * cached.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { compareResults, expectedForTcbuild, listCases, tcbuildBuild, type Case } from '../../scripts/conformance.js';
import { loadFixture } from '../../scripts/fixtures.js';
import { NEEDS_ROOT, tempRoot } from '../helpers/cli.js';

const cases: Case[] = await listCases();

describe('Dockerfile conformance set: tcbuild against BuildKit results', { skip: NEEDS_ROOT }, () => {
  let root: string;
  let work: string;

  before(async () => {
    root = await tempRoot();
    work = await mkdtemp(join(tmpdir(), 'tcbuild-conformance-'));
    await loadFixture('busybox:latest', root);
  });

  after(async () => {
    await rm(root, { recursive: true, force: true });
    await rm(work, { recursive: true, force: true });
  });

  it('has at least 40 cases, each with its expectations and their source', () => {
    assert.ok(cases.length >= 40, `${cases.length} cases`);
    for (const c of cases) {
      assert.ok(c.expected, `${c.name}: no expected.json`);
      assert.ok(['buildkit-docker.io', 'buildkit-docs'].includes(c.meta.source), `${c.name}: source ${c.meta.source}`);
      if (c.meta.source === 'buildkit-docs')
        assert.ok(c.meta.docs, `${c.name}: buildkit-docs case without a docs link`);
    }
  });

  for (const c of cases) {
    it(`${c.name}: ${c.meta.description}`, {
      ...(c.meta.todo ? { todo: c.meta.todo } : {}),
      timeout: 60_000,
    }, async () => {
      const { run, result } = await tcbuildBuild(c, root, `conformance/${c.name}:latest`, 'busybox:latest', work);
      assert.equal(run.code, 0, `tcbuild build failed:\n${run.stderr.split('\n').slice(-12).join('\n')}`);
      const diffs = compareResults(expectedForTcbuild(c, c.expected!), result!);
      assert.deepEqual(diffs, [], `tcbuild differs from ${c.meta.source}:\n${diffs.join('\n')}`);
    });
  }
});
