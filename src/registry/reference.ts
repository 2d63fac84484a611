import { InvalidInputError } from '../errors.js';
import { isDigest, type Digest } from '../image/digest.js';

/** A parsed, normalized image reference: `registry/repository[:tag][@digest]`. */
export interface Reference {
  registry: string; // "docker.io", "localhost:5000", "[::1]:5000"
  repository: string; // "library/busybox", "team/app"
  tag?: string;
  digest?: Digest;
}

export const DEFAULT_REGISTRY = 'docker.io';
const DEFAULT_TAG = 'latest';

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const HOST_LABEL = /^(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const PORT = /^[0-9]+$/;

export function isTag(text: string): boolean {
  return TAG.test(text);
}

function isValidDomain(domain: string): boolean {
  let host = domain;
  let port: string | undefined;
  if (domain.startsWith('[')) {
    const end = domain.indexOf(']');
    if (end < 0) return false;
    const ipv6 = domain.slice(1, end);
    if (!/^[0-9a-fA-F:.]+$/.test(ipv6) || !ipv6.includes(':')) return false;
    const rest = domain.slice(end + 1);
    if (rest !== '' && !(rest.startsWith(':') && PORT.test(rest.slice(1)))) return false;
    return true;
  }
  const colon = domain.lastIndexOf(':');
  if (colon >= 0) {
    host = domain.slice(0, colon);
    port = domain.slice(colon + 1);
    if (!PORT.test(port)) return false;
  }
  return host.split('.').every((label) => HOST_LABEL.test(label));
}

/**
 * Parses a reference with Docker's grammar and defaults (docker.io, library/, :latest unless a
 * digest is given). Throws an InvalidInputError that names the reference and what is wrong.
 */
export function parseReference(input: string): Reference {
  const bad = (why: string) =>
    new InvalidInputError(`invalid image reference "${input}": ${why}`, {
      hint: 'expected [registry[:port]/]name[:tag][@sha256:digest], e.g. localhost:5000/team/app:1',
    });
  if (input === '') throw bad('it is empty');
  if (input.length > 4096) throw bad('it is too long');

  let rest = input;
  let digest: Digest | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    const d = rest.slice(at + 1);
    if (!isDigest(d)) throw bad(`"${d}" is not a valid sha256 digest`);
    digest = d;
    rest = rest.slice(0, at);
  }

  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const lastColon = rest.lastIndexOf(':');
  if (lastColon > lastSlash && !rest.slice(lastSlash + 1).startsWith('[')) {
    tag = rest.slice(lastColon + 1);
    rest = rest.slice(0, lastColon);
    if (!TAG.test(tag))
      throw bad(`"${tag}" is not a valid tag (letters, digits, _ . -, at most 128, not starting with . or -)`);
  }

  let registry = DEFAULT_REGISTRY;
  let path = rest;
  const firstSlash = rest.indexOf('/');
  if (firstSlash >= 0) {
    const first = rest.slice(0, firstSlash);
    if (
      first.includes('.') ||
      first.includes(':') ||
      first === 'localhost' ||
      first.startsWith('[') ||
      first !== first.toLowerCase()
    ) {
      if (!isValidDomain(first)) throw bad(`"${first}" is not a valid registry host`);
      registry = first;
      path = rest.slice(firstSlash + 1);
    }
  }
  if (registry === 'index.docker.io') registry = DEFAULT_REGISTRY;
  if (path === '') throw bad('the repository name is empty');
  if (path !== path.toLowerCase()) throw bad('repository names must be lowercase');
  for (const component of path.split('/')) {
    if (!COMPONENT.test(component)) throw bad(`"${component}" is not a valid name component`);
  }
  if (registry === DEFAULT_REGISTRY && !path.includes('/')) path = `library/${path}`;
  if (registry.length + 1 + path.length > 255) throw bad('the name is longer than 255 characters');

  const ref: Reference = { registry, repository: path };
  if (tag !== undefined) ref.tag = tag;
  if (digest !== undefined) ref.digest = digest;
  if (tag === undefined && digest === undefined) ref.tag = DEFAULT_TAG;
  return ref;
}

/** The fully qualified form, used as the image's name in the local store. */
export function formatReference(ref: Reference): string {
  const tag = ref.tag !== undefined ? `:${ref.tag}` : '';
  return `${ref.registry}/${ref.repository}${tag}${ref.digest ? `@${ref.digest}` : ''}`;
}

/** The short form docker shows: no docker.io/ or library/. */
export function familiarName(ref: Reference): string {
  let name = `${ref.registry}/${ref.repository}`;
  if (ref.registry === DEFAULT_REGISTRY) {
    name = ref.repository.startsWith('library/') ? ref.repository.slice('library/'.length) : ref.repository;
  }
  return `${name}${ref.tag !== undefined ? `:${ref.tag}` : ''}${ref.digest ? `@${ref.digest}` : ''}`;
}
