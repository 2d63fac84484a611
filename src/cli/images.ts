import { Command } from 'commander';
import { InvalidInputError } from '../errors.js';
import { familiarName, parseReference } from '../registry/reference.js';
import { action, collect, lazy } from './action.js';
import { formatBytes } from '../progress/format-bytes.js';
import { renderTable, renderTemplate } from './go-template.js';

const images = lazy(() => import('../api/images.js'), 'images');

/** A row of `docker images`, with its field names (for --format). */
interface ImageRow {
  Repository: string;
  Tag: string;
  Digest: string;
  ID: string;
  Size: string;
}

const HEADERS: Record<keyof ImageRow, string> = { Repository: 'REPOSITORY', Tag: 'TAG', Digest: 'DIGEST', ID: 'IMAGE ID', Size: 'SIZE' };
const DEFAULT_TABLE = 'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.Size}}';

export function imagesCommand(): Command {
  return new Command('images')
    .description('list the images in the local store')
    .argument('[repository]', 'only this repository (and tag), e.g. busybox or busybox:1')
    .option('-q, --quiet', 'print only image ids')
    .option('-a, --all', 'also intermediate images (the store keeps none: build steps live in the build cache)')
    .option('--no-trunc', 'print whole ids')
    .option('--digests', 'add the DIGEST column')
    .option('-f, --filter <filter>', 'reference=PATTERN or dangling=true|false (as docker); repeatable', collect, [])
    .option('--format <template>', "a Go template, as docker: 'table {{.Repository}}\\t{{.Tag}}', '{{json .}}'")
    .action(
      action(async (repository: string | undefined, flags: { quiet?: boolean; trunc: boolean; digests?: boolean; filter: string[]; format?: string }) => {
        const matches = filters([...flags.filter, ...(repository ? [`reference=${repository}`] : [])]);
        const rows = (await images())
          .map(({ name, digest, size }): ImageRow => {
            const ref = parseReference(name);
            return {
              Repository: familiarName({ ...ref, tag: undefined }),
              Tag: ref.tag ?? '<none>',
              Digest: digest,
              ID: flags.trunc ? digest.slice('sha256:'.length, 'sha256:'.length + 12) : digest,
              Size: formatBytes(size),
            };
          })
          .filter(matches);
        if (flags.quiet) {
          process.stdout.write(rows.map((r) => `${r.ID}\n`).join(''));
          return;
        }
        const format = flags.format ?? (flags.digests ? DEFAULT_TABLE.replace('\t{{.ID}}', '\t{{.Digest}}\t{{.ID}}') : DEFAULT_TABLE);
        if (format.startsWith('table')) process.stdout.write(renderTable(format, rows, HEADERS));
        else process.stdout.write(rows.map((r) => `${renderTemplate(format, r)}\n`).join(''));
      }),
    );
}

/** docker's `--filter` for images: every filter must hold (several references: any of them). */
function filters(specs: readonly string[]): (row: ImageRow) => boolean {
  const references: RegExp[] = [];
  let dangling: boolean | undefined;
  for (const spec of specs) {
    const [key, value] = [spec.slice(0, spec.indexOf('=')), spec.slice(spec.indexOf('=') + 1)];
    if (key === 'reference') references.push(globPattern(value));
    else if (key === 'dangling' && (value === 'true' || value === 'false')) dangling = value === 'true';
    else throw new InvalidInputError(`--filter ${spec}: expected reference=PATTERN or dangling=true|false`);
  }
  return (row) => {
    if (dangling === true) return false; // every stored image has a name
    return references.length === 0 || references.some((re) => re.test(`${row.Repository}:${row.Tag}`) || re.test(row.Repository));
  };
}

/** A docker reference pattern (`busybox`, `team/*:1.*`) as a regular expression; `*` stops at `/`. */
function globPattern(pattern: string): RegExp {
  const source = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]');
  return new RegExp(`^${source}$`);
}
