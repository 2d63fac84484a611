import { posix } from 'node:path';
import type { HttpSource, Source } from '../graph/vertex.js';
import type { Conversion, StageState } from './conversion.js';
import { downloadName } from './download-name.js';
import { DockerfileError } from './errors.js';
import type { InstructionOf } from './instructions.js';

export async function dispatchCopy(c: Conversion, s: StageState, ins: InstructionOf<'COPY' | 'ADD'>): Promise<void> {
  const ex = c.expanderAt(s, ins.line);
  let sources = ins.sources.map(ex);
  const dest = ex(ins.dest);
  let source: Source = c.opts.context;
  if (ins.heredocs.length > 0) {
    const files = ins.heredocs.map((h) => ({ name: h.name, content: h.expand ? ex(h.content) : h.content }));
    source = { op: 'inline', files };
  } else if (ins.kind === 'ADD' && sources.some(isUrl)) {
    source = httpSource(sources, ins.checksum === undefined ? undefined : ex(ins.checksum), c.file, ins.line);
    sources = [`/${source.filename}`];
  } else if (ins.from !== undefined) {
    source = await c.fromSource(ex(ins.from), s.platform, ins.line, 'COPY --from');
  }
  if (ins.kind === 'ADD' && ins.checksum !== undefined && source.op !== 'http') {
    throw new DockerfileError(c.file, ins.line, 'ADD --checksum is only valid for http(s) URLs');
  }
  const chown = ins.chown !== undefined ? ex(ins.chown) : undefined;
  const chmod = ins.chmod !== undefined ? ex(ins.chmod) : undefined;
  const names = ins.heredocs.length > 0 ? ins.heredocs.map((h) => h.name) : sources;
  s.vertex = {
    op: 'copy',
    input: s.vertex,
    source,
    sources: names,
    dest: copyDestination(dest, s.config.WorkingDir),
    chown,
    chmod,
    unpack: ins.kind === 'ADD' && source.op !== 'http',
    link: ins.link,
    parents: ins.parents,
    excludes: ins.excludes.map(ex),
    description: c.step(s, ins),
  };
  // As BuildKit's dispatchCopy writes it: no --from, --link or --exclude; heredocs as <<NAME.
  const flags = [ins.parents ? '--parents' : '', chown ? `--chown=${chown}` : '', chmod ? `--chmod=${chmod}` : ''];
  const shownSources = ins.heredocs.length > 0 ? ins.heredocs.map((h) => `<<${h.name}`) : sources;
  c.commit(s, `${ins.kind} ${[...flags.filter(Boolean), ...shownSources, dest].join(' ')} # buildkit`, false);
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
