import { posix } from 'node:path';
import type { HttpSource, Source } from '../graph/vertex.js';
import type { Conversion, StageState } from './conversion.js';
import { downloadName } from './download-name.js';
import { checkIgnoredSources } from './checks/instruction-checks.js';
import { DockerfileError } from './errors.js';
import { parseGitUrl, redactGitUrl, type GitUrl } from './git-url.js';
import type { InstructionOf } from './instructions.js';

export async function dispatchCopy(c: Conversion, s: StageState, ins: InstructionOf<'COPY' | 'ADD'>): Promise<void> {
  const ex = c.expanderAt(s, ins.line);
  let sources = ins.sources.map(ex);
  const dest = ex(ins.dest);
  let source: Source = c.opts.context;
  const git = ins.kind === 'ADD' && ins.heredocs.length === 0 ? gitSource(sources, ins, ex, c.file) : undefined;
  if (ins.heredocs.length > 0) {
    const files = ins.heredocs.map((h) => ({ name: h.name, content: h.expand ? ex(h.content) : h.content }));
    source = { op: 'inline', files };
  } else if (git) {
    if (!c.opts.resolveGit) throw new DockerfileError(c.file, ins.line, 'ADD of a git URL is not supported here');
    source = await c.opts.resolveGit(git.url, git.keepGitDir, { file: c.file, line: ins.line });
  } else if (ins.kind === 'ADD' && sources.some(isUrl)) {
    source = httpSource(sources, ins.checksum === undefined ? undefined : ex(ins.checksum), c.file, ins.line);
    sources = [`/${source.filename}`];
  } else if (ins.from !== undefined) {
    source = await c.fromSource(ex(ins.from), s.platform, ins.line, 'COPY --from');
  }
  if (ins.kind === 'ADD' && ins.checksum !== undefined && source.op !== 'http' && source.op !== 'git') {
    throw new DockerfileError(c.file, ins.line, 'ADD --checksum is only valid for http(s) URLs and git URLs');
  }
  if (source === c.opts.context) checkIgnoredSources(c.checks, ins.kind, sources, c.opts.context.excludes, ins.line);
  const chown = ins.chown !== undefined ? ex(ins.chown) : undefined;
  const chmod = ins.chmod !== undefined ? ex(ins.chmod) : undefined;
  const names = ins.heredocs.length > 0 ? ins.heredocs.map((h) => h.name) : git ? ['/'] : sources;
  s.vertex = {
    op: 'copy',
    input: s.vertex,
    source,
    sources: names,
    dest: copyDestination(dest, s.config.WorkingDir),
    chown,
    chmod,
    unpack: ins.kind === 'ADD' && source.op !== 'http' && source.op !== 'git',
    link: ins.link,
    parents: ins.parents,
    excludes: ins.excludes.map(ex),
    description: c.step(s, ins),
  };
  // As BuildKit's dispatchCopy writes it: no --from, --link or --exclude; heredocs as <<NAME.
  const flags = [ins.parents ? '--parents' : '', chown ? `--chown=${chown}` : '', chmod ? `--chmod=${chmod}` : ''];
  const shownSources =
    ins.heredocs.length > 0 ? ins.heredocs.map((h) => `<<${h.name}`) : git ? sources.map(redactGitUrl) : sources;
  c.commit(s, `${ins.kind} ${[...flags.filter(Boolean), ...shownSources, dest].join(' ')} # buildkit`, false);
}

/** ADD of a git URL: one URL per ADD; --keep-git-dir and --checksum agree with what the URL says. */
function gitSource(
  sources: string[],
  ins: InstructionOf<'COPY' | 'ADD'>,
  ex: (word: string) => string,
  file: string,
): { url: GitUrl; keepGitDir: boolean } | undefined {
  const urls = sources.map((source) => {
    try {
      return parseGitUrl(source);
    } catch (err) {
      throw new DockerfileError(file, ins.line, err instanceof Error ? err.message : String(err));
    }
  });
  const url = urls[0];
  if (url === undefined) return undefined;
  if (urls.length !== 1) {
    throw new DockerfileError(file, ins.line, 'ADD of a git repository together with other sources is not supported', {
      hint: 'use one ADD per repository',
    });
  }
  if (ins.keepGitDir !== undefined && url.keepGitDir !== undefined && ins.keepGitDir !== url.keepGitDir) {
    const message = "inconsistent keep-git-dir configuration: --keep-git-dir and the URL's ?keep-git-dir= differ";
    throw new DockerfileError(file, ins.line, message);
  }
  const checksum = ins.checksum === undefined ? undefined : ex(ins.checksum).toLowerCase();
  if (checksum !== undefined && !/^[a-f0-9]{1,64}$/.test(checksum)) {
    const message = `invalid --checksum=${checksum} for a git repository: expected a hex commit hash`;
    throw new DockerfileError(file, ins.line, message);
  }
  if (checksum !== undefined && url.checksum !== undefined && checksum !== url.checksum) {
    throw new DockerfileError(file, ins.line, `checksum mismatch: --checksum=${checksum}, the URL's ${url.checksum}`);
  }
  return { url: { ...url, checksum: checksum ?? url.checksum }, keepGitDir: ins.keepGitDir ?? url.keepGitDir ?? false };
}

function isUrl(source: string): boolean {
  return /^https?:\/\//i.test(source);
}

/** ADD of a URL: one URL per ADD; the file's name comes from the URL until the server names it. */
function httpSource(sources: string[], checksum: string | undefined, file: string, line: number): HttpSource {
  if (sources.length !== 1) {
    throw new DockerfileError(file, line, 'ADD of a URL together with other sources is not supported', {
      hint: 'use one ADD per URL',
    });
  }
  const url = new URL(sources[0]!);
  if (checksum !== undefined && !/^sha256:[a-f0-9]{64}$/.test(checksum)) {
    throw new DockerfileError(file, line, `invalid --checksum=${checksum}: expected sha256:<64 hex digits>`);
  }
  return { op: 'http', url: url.href, checksum, filename: downloadName(url) };
}

/** A COPY destination made absolute against WORKDIR, keeping what says "a directory": a trailing `/`, `.` or `..`. */
function copyDestination(dest: string, workdir: string | undefined): string {
  const abs = posix.isAbsolute(dest) ? dest : posix.join(workdir || '/', dest);
  const isDir = dest.endsWith('/') || dest === '.' || dest === '..' || dest.endsWith('/.') || dest.endsWith('/..');
  return isDir && !abs.endsWith('/') ? `${abs}/` : abs;
}
