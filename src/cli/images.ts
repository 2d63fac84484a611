import { Command } from 'commander';
import { InvalidInputError } from '../errors.js';
import { familiarName, parseReference } from '../registry/reference.js';
import { action, collect, lazy } from './action.js';
import { formatBytes } from '../progress/format-bytes.js';
import { renderTable, renderTemplate } from './go-template.js';
import type { ImageSummary } from '../api/images.js';

const images = lazy(() => import('../api/images.js'), 'images');

/** A row of `docker images`, with its field names (for --format). */
interface ImageRow {
  Repository: string;
  Tag: string;
  Digest: string;
  ID: string;
  Size: string;
}

const HEADERS: Record<keyof ImageRow, string> = {
  Repository: 'REPOSITORY',
  Tag: 'TAG',
  Digest: 'DIGEST',
  ID: 'IMAGE ID',
  Size: 'SIZE',
};
const DEFAULT_TABLE = 'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.Size}}';

export function imagesCommand(): Command {
  return new Command('images')
    .description('list the images in the local store')
    .argument('[repository]', 'only this repository (and tag), e.g. busybox or busybox:1')
    .option('-q, --quiet', 'print only image ids')
    .option('-a, --all', 'also intermediate images (the store keeps none: build steps live in the build cache)')
    .option('--no-trunc', 'print whole ids')
    .option('--digests', 'add the DIGEST column')
    .option(
      '-f, --filter <filter>',
      'reference=PATTERN, dangling=true|false, label=KEY[=VALUE], before=IMAGE, since=IMAGE (as docker); repeatable',
      collect,
      [],
    )
    .option('--format <template>', "a Go template, as docker: 'table {{.Repository}}\\t{{.Tag}}', '{{json .}}'")
    .action(
      action(
        async (
          repository: string | undefined,
          flags: { quiet?: boolean; trunc: boolean; digests?: boolean; filter: string[]; format?: string },
        ) => {
          const listed = (await images()).map((image) => {
            const ref = parseReference(image.name);
            const row: ImageRow = {
              Repository: familiarName({ ...ref, tag: undefined }),
              Tag: ref.tag ?? '<none>',
              Digest: image.digest,
              ID: flags.trunc ? image.digest.slice('sha256:'.length, 'sha256:'.length + 12) : image.digest,
              Size: formatBytes(image.size),
            };
            return { row, image };
          });
          const matches = filters([...flags.filter, ...(repository ? [`reference=${repository}`] : [])], listed);
          const rows = listed.filter(matches).map(({ row }) => row);
          if (flags.quiet) {
            process.stdout.write(rows.map((r) => `${r.ID}\n`).join(''));
            return;
          }
          const format =
            flags.format ??
            (flags.digests ? DEFAULT_TABLE.replace('\t{{.ID}}', '\t{{.Digest}}\t{{.ID}}') : DEFAULT_TABLE);
          if (format.startsWith('table')) process.stdout.write(renderTable(format, rows, HEADERS));
          else process.stdout.write(rows.map((r) => `${renderTemplate(format, r)}\n`).join(''));
        },
      ),
    );
}

interface Listed {
  row: ImageRow;
  image: ImageSummary;
}

const FILTERS = 'reference=PATTERN, dangling=true|false, label=KEY[=VALUE], before=IMAGE or since=IMAGE';

/** docker's `--filter` for images: every filter must hold (several references: any of them). */
function filters(specs: readonly string[], listed: readonly Listed[]): (entry: Listed) => boolean {
  const references: RegExp[] = [];
  const checks: ((entry: Listed) => boolean)[] = [];
  for (const spec of specs) {
    const eq = spec.indexOf('=');
    const [key, value] = [spec.slice(0, Math.max(eq, 0)), spec.slice(eq + 1)];
    if (key === 'reference') references.push(globPattern(value));
    else if (key === 'dangling' && (value === 'true' || value === 'false')) {
      if (value === 'true') checks.push(() => false); // every stored image has a name
    } else if (key === 'label' && value !== '') checks.push(labelCheck(value));
    else if ((key === 'before' || key === 'since') && value !== '') {
      const created = createdTime(imageNamed(value, listed, spec));
      checks.push(({ image }) => (key === 'before' ? createdTime(image) < created : createdTime(image) > created));
    } else throw new InvalidInputError(`--filter ${spec}: expected ${FILTERS}`);
  }
  return (entry) => {
    const { row } = entry;
    const named =
      references.length === 0 ||
      references.some((re) => re.test(`${row.Repository}:${row.Tag}`) || re.test(row.Repository));
    return named && checks.every((check) => check(entry));
  };
}

/** label=KEY: the image has the label; label=KEY=VALUE: with that value. */
function labelCheck(value: string): (entry: Listed) => boolean {
  const eq = value.indexOf('=');
  const key = eq < 0 ? value : value.slice(0, eq);
  return ({ image }) => key in image.labels && (eq < 0 || image.labels[key] === value.slice(eq + 1));
}

/** The image `before=`/`since=` names: a stored name (docker-style short names work) or an id prefix. */
function imageNamed(name: string, listed: readonly Listed[], spec: string): ImageSummary {
  const byName = (l: Listed) =>
    l.row.Tag !== '<none>' &&
    [`${l.row.Repository}:${l.row.Tag}`, l.image.name].includes(name.includes(':') ? name : `${name}:latest`);
  const id = name.replace(/^sha256:/, '');
  const found =
    listed.find(byName) ??
    (/^[0-9a-f]{4,64}$/.test(id) ? listed.find((l) => l.image.digest.slice(7).startsWith(id)) : undefined);
  if (!found)
    throw new InvalidInputError(`--filter ${spec}: no image ${name} in the store`, {
      hint: 'tcbuild images lists them',
    });
  return found.image;
}

function createdTime(image: ImageSummary): number {
  return image.created ? Date.parse(image.created) : 0;
}

/** A docker reference pattern (`busybox`, `team/*:1.*`) as a regular expression; `*` stops at `/`. */
function globPattern(pattern: string): RegExp {
  const source = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '[^/]*')
    .replace(/\?/g, '[^/]');
  return new RegExp(`^${source}$`);
}
