import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseDockerignore } from '../../src/frontend/dockerignore.js';
import { matchPathElement } from '../../src/frontend/glob.js';
import { PatternMatcher } from '../../src/frontend/patterns.js';
import { MountSyntaxError, parseMount } from '../../src/frontend/run-mount.js';
import { parseChmod } from '../../src/solver/chmod.js';

describe('.dockerignore patterns (moby/patternmatcher semantics)', () => {
  const matches = (patterns: string[], path: string) =>
    new PatternMatcher(parseDockerignore(patterns.join('\n'))).matches(path);

  it('reads the file as Docker does: comments, blanks, leading / and .. cleaned, ! kept', () => {
    assert.deepEqual(parseDockerignore('# c\n\n  /a/b/  \n!c/../d\n./e\n#f\n'), ['a/b', '!d', 'e']);
  });

  const cases: [string[], string, boolean][] = [
    [['*.log'], 'x.log', true],
    [['*.log'], 'dir/x.log', false],
    [['**/*.log'], 'dir/sub/x.log', true],
    [['**/*.log'], 'x.log', true],
    [['dir'], 'dir/any/file', true],
    [['dir/**'], 'dir/any/file', true],
    [['**'], 'anything/at/all', true],
    [['a/**/b'], 'a/b', true],
    [['a/**/b'], 'a/x/y/b', true],
    [['*.log', '!keep.log'], 'keep.log', false],
    [['!keep.log', '*.log'], 'keep.log', true],
    [['dir', '!dir/keep'], 'dir/keep', false],
    [['dir', '!dir/keep'], 'dir/other', true],
    [['?.txt'], 'a.txt', true],
    [['?.txt'], 'ab.txt', false],
    [['[a-c].txt'], 'b.txt', true],
    [['[^a-c].txt'], 'b.txt', false],
    [['\\*.txt'], '*.txt', true],
    [['\\*.txt'], 'a.txt', false],
    [['a.b'], 'axb', false],
    [['/secret'], 'secret', true],
    [['x/../secret'], 'secret', true],
    // found by the fuzzer: escapes became regular-expression escapes (\d a digit, \c a control letter)
    [['\\d'], 'd', true],
    [['\\d'], '5', false],
    [['.9\\cr9'], '.9cr9', true],
    [['[a/]'], 'a', true],
    [['a[/]b'], 'a/b', false],
  ];
  for (const [patterns, path, expected] of cases) {
    it(`${JSON.stringify(patterns)} ${expected ? 'matches' : 'does not match'} ${path}`, () =>
      assert.equal(matches(patterns, path), expected));
  }

  it('knows when an excluded directory may hold re-included files', () => {
    const m = new PatternMatcher(['build', '!build/dist/app.js']);
    assert.equal(m.mayIncludeBelow('build'), true);
    assert.equal(m.mayIncludeBelow('other'), false);
  });

  // Found by the fuzzer: backtracking made these take minutes (a hostile context hangs the build).
  // A backtracking matcher takes longer than the test's timeout on each.
  it('matches in time linear in the path, whatever the pattern', { timeout: 60_000 }, () => {
    const stars = `${'*a'.repeat(30)}*b`;
    assert.equal(matches([stars], 'a'.repeat(200)), false);
    assert.equal(matches([`${'**/a/'.repeat(20)}b`], `${'a/'.repeat(200)}c`), false);
    assert.equal(matchPathElement(stars, 'a'.repeat(200)), false);
    assert.equal(matchPathElement(stars, `${'a'.repeat(200)}b`), true);
  });

  it('refuses a lone "!"', () => assert.throws(() => new PatternMatcher(['!']), /illegal exclusion pattern/));
});

describe('RUN --mount parsing (BuildKit defaults and errors)', () => {
  const parse = (value: string) => parseMount(value, (w) => w.replace('$DIR', '/expanded'), 0);

  it('defaults to a read-only bind of the context root', () => {
    assert.deepEqual(parse('target=/src'), {
      type: 'bind',
      target: '/src',
      from: undefined,
      source: '/',
      readwrite: false,
    });
    assert.deepEqual(parse('type=bind,src=lib,dst=rel,rw'), {
      type: 'bind',
      target: '/rel',
      from: undefined,
      source: 'lib',
      readwrite: true,
    });
  });

  it('puts a relative target in the working directory', () => {
    assert.equal(parseMount('type=bind,source=sub,target=rel', (w) => w, 0, '/work').target, '/work/rel');
    assert.equal(parseMount('type=cache,target=../up', (w) => w, 0, '/work/dir').target, '/work/up');
  });

  it('fills cache defaults: id = target, shared, 0755, root', () => {
    assert.deepEqual(parse('type=cache,target=$DIR'), {
      type: 'cache',
      target: '/expanded',
      from: undefined,
      source: '/',
      id: '/expanded',
      sharing: 'shared',
      readonly: false,
      mode: 0o755,
      uid: 0,
      gid: 0,
    });
    const locked = parse('type=cache,id=go,target=/root/.cache,sharing=locked,mode=0700,uid=1000,gid=1000,ro');
    assert.equal(
      locked.type === 'cache' &&
        `${locked.id} ${locked.sharing} ${locked.mode.toString(8)} ${locked.uid} ${locked.readonly}`,
      'go locked 700 1000 true',
    );
  });

  it('puts secrets at /run/secrets/<id> (0400) and ssh agents at /run/buildkit/ssh_agent.N', () => {
    const secret = parse('type=secret,id=aws');
    assert.equal(
      secret.type === 'secret' && `${secret.target} ${secret.mode.toString(8)} ${secret.required}`,
      '/run/secrets/aws 400 false',
    );
    assert.equal(
      parse('type=secret,target=/etc/token').type === 'secret' &&
        (parse('type=secret,target=/etc/token') as { id: string }).id,
      'token',
    );
    const ssh = parseMount('type=ssh,required', (w) => w, 2);
    assert.equal(
      ssh.type === 'ssh' && `${ssh.id} ${ssh.target} ${ssh.required}`,
      'default /run/buildkit/ssh_agent.2 true',
    );
    assert.deepEqual(parse('type=tmpfs,target=/t,size=64m'), { type: 'tmpfs', target: '/t', size: 64 * 1024 * 1024 });
  });

  for (const [value, message] of [
    ['type=volume,target=/x', /unsupported mount type "volume"/],
    ['type=cache,target=/x,sharing=sometimes', /unsupported sharing value "sometimes"/],
    ['type=bind,target=/x,colour=red', /unexpected key 'colour' in 'colour=red'/],
    ['type=cache', /requires a target/],
    ['type=cache,target=/x,mode=999', /invalid value for mode: 999/],
    ['type=tmpfs,target=/x,from=stage', /from is not valid for mount type tmpfs/],
    ['type=bind,target=/x,readonly=maybe', /invalid value for readonly/],
  ] as const) {
    it(`rejects ${value}`, () =>
      assert.throws(
        () => parse(value),
        (err: unknown) => err instanceof MountSyntaxError && message.test(err.message),
      ));
  }
});

describe('COPY --chmod', () => {
  it('takes octal modes', () => assert.equal(parseChmod('0640')!(0o777, false), 0o640));
  it('applies symbolic clauses to each file', () => {
    assert.equal(parseChmod('u+x,g=r,o=')!(0o644, false), 0o740);
    assert.equal(parseChmod('a-w')!(0o666, false), 0o444);
    assert.equal(parseChmod('+X')!(0o644, false), 0o644);
    assert.equal(parseChmod('+X')!(0o644, true), 0o755);
    assert.equal(parseChmod('go-rwx,u+s')!(0o755, false), 0o4700);
  });
  it('copies a class, as chmod(1) and BuildKit >= 0.13 do (go=u, g=u, u=g, o+g), and takes several actions in a clause', () => {
    assert.equal(parseChmod('go=u')!(0o750, false), 0o777);
    assert.equal(parseChmod('g=u')!(0o4700, false), 0o4770, 'setuid is no permission to copy');
    assert.equal(parseChmod('u=g')!(0o640, false), 0o440);
    assert.equal(parseChmod('o+g')!(0o650, false), 0o655);
    assert.equal(parseChmod('g=u-w')!(0o644, false), 0o644);
    assert.equal(parseChmod('u=rwx,go=u-w')!(0o600, false), 0o755);
    assert.equal(parseChmod('a=g')!(0o070, false), 0o777);
  });
  it('rejects anything else', () => {
    for (const bad of ['rwxr-xr-x', 'g=ur', 'x=u', 'u=gg', 'g=u,']) assert.equal(parseChmod(bad), undefined, bad);
  });
});
