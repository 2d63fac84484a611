import { posix } from 'node:path';
import { InvalidInputError } from '../errors.js';

/** A git source as BuildKit reads one (`ADD <git>`, a git build context): the remote and what to take from it. */
export interface GitUrl {
  /** What git is given: the URL without BuildKit's fragment and query. */
  remote: string;
  /** A branch, tag, full commit or other ref; '' for the default branch. */
  ref: string;
  /** The directory of the repository to take, relative, without `..` ('' for all of it). */
  subdir: string;
  /** Whether `.git` stays (`?keep-git-dir=`); undefined when the URL does not say. */
  keepGitDir: boolean | undefined;
  submodules: boolean;
  /** A commit (or its prefix) the ref must resolve to (`?checksum=`, `?commit=`). */
  checksum: string | undefined;
  /** File times: the commit's (the default here, for reproducible layers) or the checkout's. */
  mtime: 'commit' | 'checkout';
}

/** The build arg that keeps `.git` in a git build context, as BuildKit's frontend reads it. */
export const KEEP_GIT_DIR_ARG = 'BUILDKIT_CONTEXT_KEEP_GIT_DIR';

const SCHEME = /^([a-zA-Z0-9]+):\/\//;
const GIT_SCHEMES = new Set(['http', 'https', 'ssh', 'git']);
const QUERY_KEYS = ['ref', 'branch', 'tag', 'subdir', 'checksum', 'commit', 'keep-git-dir', 'submodules', 'mtime'];
/** git's scp-like syntax, as BuildKit's sshutil matches it: user@host:path[?query][#fragment]. */
const SCP_STYLE = /^([a-zA-Z0-9_-]+)@([a-zA-Z0-9.-]+):(.*?)(?:\?(.*?))?(?:#(.*))?$/;

/**
 * Reads a git URL the way BuildKit's ParseGitRef does — `https://…/repo.git`, `http://…/repo.git`,
 * `git://…`, `ssh://…` and `user@host:path` — with the fragment `#ref:subdir` and the query form
 * `?ref=&branch=&tag=&subdir=&checksum=&keep-git-dir=&submodules=&mtime=`. Anything else (a local
 * path, an http URL whose path does not end in `.git`) is not a git URL: undefined.
 */
export function parseGitUrl(text: string): GitUrl | undefined {
  const scheme = SCHEME.exec(text)?.[1]?.toLowerCase();
  let remote: string;
  let query: URLSearchParams;
  let fragment: string;
  if (scheme !== undefined) {
    if (!GIT_SCHEMES.has(scheme)) return undefined;
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      if (scheme === 'http' || scheme === 'https') return undefined;
      throw new InvalidInputError(`"${text}" is not a valid git URL`);
    }
    if ((scheme === 'http' || scheme === 'https') && !url.pathname.endsWith('.git')) return undefined;
    query = new URLSearchParams(url.search);
    fragment = decodeURIComponent(url.hash.slice(1));
    url.hash = '';
    url.search = '';
    remote = url.href;
  } else {
    const scp = SCP_STYLE.exec(text);
    if (!scp) return undefined;
    remote = `${scp[1]}@${scp[2]}:${scp[3]}`;
    query = new URLSearchParams(scp[4] ?? '');
    fragment = scp[5] ?? '';
  }
  const colon = fragment.indexOf(':');
  const parsed: GitUrl = {
    remote,
    ref: colon < 0 ? fragment : fragment.slice(0, colon),
    subdir: colon < 0 ? '' : cleanSubdir(fragment.slice(colon + 1)),
    keepGitDir: undefined,
    submodules: true,
    checksum: undefined,
    mtime: 'commit',
  };
  applyQuery(parsed, query, text);
  return parsed;
}

/** A git URL without credentials, for messages and image history. */
export function redactGitUrl(remote: string): string {
  return remote.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^@/]*@/i, (_all, scheme: string) => `${scheme}`);
}

function applyQuery(parsed: GitUrl, query: URLSearchParams, text: string): void {
  const fail = (message: string): never => {
    throw new InvalidInputError(`git URL "${redactGitUrl(text)}": ${message}`);
  };
  const setRef = (ref: string) => {
    if (parsed.ref !== '' && parsed.ref !== ref) fail(`ref conflicts: "${parsed.ref}" and "${ref}"`);
    parsed.ref = ref;
  };
  const bool = (key: string, value: string): boolean => {
    if (value === '' || value === 'true' || value === '1') return true;
    if (value === 'false' || value === '0') return false;
    return fail(`invalid ${key} value "${value}" (expected true or false)`);
  };
  const keys = [...query.keys()];
  for (const key of new Set(keys)) {
    const values = query.getAll(key);
    if (values.length > 1) fail(`query "${key}" is given more than once`);
    const value = values[0]!;
    const needsValue = !['keep-git-dir', 'submodules'].includes(key);
    if (needsValue && value === '') fail(`query "${key}" has no value`);
    switch (key) {
      case 'ref':
        setRef(value);
        break;
      case 'branch':
        if (query.has('tag')) fail('branch conflicts with tag');
        setRef(value.startsWith('refs/heads/') ? value : `refs/heads/${value}`);
        break;
      case 'tag':
        setRef(value.startsWith('refs/tags/') ? value : `refs/tags/${value}`);
        break;
      case 'subdir': {
        const subdir = cleanSubdir(value);
        if (parsed.subdir !== '' && parsed.subdir !== subdir) {
          fail(`subdir conflicts: "${parsed.subdir}" and "${subdir}"`);
        }
        parsed.subdir = subdir;
        break;
      }
      case 'checksum':
      case 'commit':
        if (!/^[a-f0-9]{1,64}$/i.test(value)) fail(`invalid ${key} "${value}": expected a hex commit hash`);
        parsed.checksum = value.toLowerCase();
        break;
      case 'keep-git-dir':
        parsed.keepGitDir = bool(key, value);
        break;
      case 'submodules':
        parsed.submodules = bool(key, value);
        break;
      case 'mtime':
        if (value !== 'commit' && value !== 'checkout') {
          fail(`invalid mtime value "${value}" (expected commit or checkout)`);
        }
        parsed.mtime = value as GitUrl['mtime'];
        break;
      default:
        fail(`unexpected query "${key}" (known: ${QUERY_KEYS.join(', ')})`);
    }
  }
}

/** As BuildKit: joined to `/` (so `..` stays inside) and made relative again. */
function cleanSubdir(subdir: string): string {
  return posix.normalize(`/${subdir}`).slice(1).replace(/\/$/, '');
}
