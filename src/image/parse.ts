import { InvalidInputError } from '../errors.js';
import { parseDigest } from './digest.js';
import type { Descriptor, ImageConfig, Index, Manifest } from './types.js';

/**
 * The JSON documents of an image as they arrive from a registry, an archive, a layout or the
 * store: parsed, and every descriptor checked before anything uses it — a digest becomes a file
 * name and a URL, a size bounds a read, a count bounds the work.
 */

/** What the distribution registry accepts for a manifest or index; a bigger one is not one. */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
/**
 * Configs hold a history entry per layer and whatever labels a build set: larger than manifests
 * in practice (tens of KiB), still small JSON read whole into memory; 16 MiB leaves room for
 * thousands of layers and big labels while bounding what a hostile source can make us buffer.
 */
export const MAX_CONFIG_BYTES = 16 * 1024 * 1024;
/** Layers of a manifest, entries of an index, diff_ids of a config: 4 MiB of JSON could hold ~40 000. */
export const MAX_DESCRIPTORS = 10_000;

/** A structural problem at a JSON path ("layers[2].digest"); the document parser adds what it is. */
class Malformed extends Error {}

function object(value: unknown, at: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new Malformed(`${at} is not a JSON object`);
  return value as Record<string, unknown>;
}

function list(value: unknown, at: string, max: number): unknown[] {
  if (!Array.isArray(value)) throw new Malformed(`${at} is not a list`);
  if (value.length > max)
    throw new Malformed(`${at} has ${value.length} entries, more than the ${max} tcbuild accepts`);
  return value;
}

function optionalString(value: unknown, at: string): void {
  if (value !== undefined && typeof value !== 'string') throw new Malformed(`${at} is not a string`);
}

function descriptorAt(value: unknown, at: string): Descriptor {
  const d = object(value, at);
  if (typeof d['mediaType'] !== 'string') throw new Malformed(`${at}.mediaType is not a string`);
  const size = d['size'];
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0)
    throw new Malformed(`${at}.size is not a byte count`);
  parseDigest(d['digest'], `${at}.digest`);
  if (d['platform'] !== undefined) {
    const platform = object(d['platform'], `${at}.platform`);
    for (const key of ['os', 'architecture', 'variant']) optionalString(platform[key], `${at}.platform.${key}`);
  }
  return d as unknown as Descriptor;
}

function parseDocument<T>(raw: Buffer, what: string, kind: string, check: (value: Record<string, unknown>) => void): T {
  let value: unknown;
  try {
    value = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new InvalidInputError(`${what} is not valid JSON`, { hint: `expected an image ${kind}` });
  }
  try {
    check(object(value, 'the document'));
  } catch (err) {
    if (!(err instanceof Malformed || err instanceof InvalidInputError)) throw err;
    throw new InvalidInputError(`${what} is not a valid image ${kind}: ${err.message}`, {
      hint: 'the source is damaged or hostile: tcbuild does not use a document whose descriptors it cannot trust',
    });
  }
  return value as T;
}

/** One descriptor, checked: media type, size, and a digest that can name a file. */
export function parseDescriptor(value: unknown, what: string): Descriptor {
  try {
    return descriptorAt(value, 'the descriptor');
  } catch (err) {
    if (!(err instanceof Malformed || err instanceof InvalidInputError)) throw err;
    throw new InvalidInputError(`${what}: ${err.message}`);
  }
}

export function parseManifest(raw: Buffer, what: string): Manifest {
  return parseDocument<Manifest>(raw, what, 'manifest', (m) => {
    descriptorAt(m['config'], 'config');
    list(m['layers'], 'layers', MAX_DESCRIPTORS).forEach((d, i) => {
      descriptorAt(d, `layers[${i}]`);
    });
    if (m['subject'] !== undefined) descriptorAt(m['subject'], 'subject');
  });
}

/** An index (or manifest list); `maxEntries` is raised only for the store's own list of named images. */
export function parseIndex(raw: Buffer, what: string, maxEntries = MAX_DESCRIPTORS): Index {
  return parseDocument<Index>(raw, what, 'index', (index) => {
    list(index['manifests'], 'manifests', maxEntries).forEach((d, i) => {
      descriptorAt(d, `manifests[${i}]`);
    });
    if (index['subject'] !== undefined) descriptorAt(index['subject'], 'subject');
  });
}

/** An optional list of strings (`nullable`: or null). */
function optionalStrings(value: unknown, at: string, nullable = false): void {
  if (value === undefined || (nullable && value === null)) return;
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string'))
    throw new Malformed(`${at} is not a list of strings`);
}

function optionalObject(value: unknown, at: string): Record<string, unknown> | undefined {
  return value === undefined || value === null ? undefined : object(value, at);
}

function optionalNumber(value: unknown, at: string): void {
  if (value !== undefined && typeof value !== 'number') throw new Malformed(`${at} is not a number`);
}

/** The fields of `config` that builds and `run` read, each of the type Docker writes. */
function checkContainerConfig(c: Record<string, unknown>): void {
  for (const key of ['Env', 'Shell']) optionalStrings(c[key], `config.${key}`);
  for (const key of ['Entrypoint', 'Cmd', 'OnBuild']) optionalStrings(c[key], `config.${key}`, true);
  for (const key of ['User', 'WorkingDir', 'StopSignal']) optionalString(c[key], `config.${key}`);
  for (const [key, value] of Object.entries(optionalObject(c['Labels'], 'config.Labels') ?? {}))
    optionalString(value, `config.Labels[${JSON.stringify(key)}]`);
  for (const field of ['ExposedPorts', 'Volumes']) {
    for (const [key, value] of Object.entries(optionalObject(c[field], `config.${field}`) ?? {}))
      object(value, `config.${field}[${JSON.stringify(key)}]`);
  }
  const health = optionalObject(c['Healthcheck'], 'config.Healthcheck');
  if (health) {
    optionalStrings(health['Test'], 'config.Healthcheck.Test', true);
    for (const key of ['Interval', 'Timeout', 'StartPeriod', 'StartInterval', 'Retries'])
      optionalNumber(health[key], `config.Healthcheck.${key}`);
  }
}

/**
 * An image config. Its diff_ids name snapshots, so each must be a valid digest; the fields a
 * build takes from a base image must have their types. A config without `config` or `rootfs`
 * (an artifact's) reads as one with none of either.
 */
export function parseConfig(raw: Buffer, what: string): ImageConfig {
  const config = parseDocument<ImageConfig>(raw, what, 'config', (config) => {
    for (const key of ['created', 'author', 'architecture', 'os', 'variant', 'os.version'])
      optionalString(config[key], key);
    checkContainerConfig(optionalObject(config['config'], 'config') ?? {});
    if (config['history'] !== undefined) {
      list(config['history'], 'history', MAX_DESCRIPTORS).forEach((h, i) => {
        const entry = object(h, `history[${i}]`);
        for (const key of ['created', 'created_by', 'author', 'comment'])
          optionalString(entry[key], `history[${i}].${key}`);
        if (entry['empty_layer'] !== undefined && typeof entry['empty_layer'] !== 'boolean')
          throw new Malformed(`history[${i}].empty_layer is not true or false`);
      });
    }
    if (config['rootfs'] === undefined) return;
    const rootfs = object(config['rootfs'], 'rootfs');
    list(rootfs['diff_ids'], 'rootfs.diff_ids', MAX_DESCRIPTORS).forEach((d, i) => {
      parseDigest(d, `rootfs.diff_ids[${i}]`);
    });
  });
  config.config ??= {};
  config.rootfs ??= { type: 'layers', diff_ids: [] };
  return config;
}
