import { InvalidInputError } from '../errors.js';
import { DockerfileError } from '../frontend/errors.js';
import type { Vertex } from './vertex.js';

/** What a build must be allowed (`--allow`) before a step may have it, as BuildKit's entitlements. */
export const ENTITLEMENTS = ['network.host', 'security.insecure'] as const;
export type Entitlement = (typeof ENTITLEMENTS)[number];

/** `--allow` values, each one or a comma-separated list, e.g. ["network.host,security.insecure"]. */
export function parseEntitlements(values: readonly string[]): Entitlement[] {
  return values.flatMap((value) =>
    value.split(',').map((name) => {
      const trimmed = name.trim();
      if (!(ENTITLEMENTS as readonly string[]).includes(trimmed)) {
        throw new InvalidInputError(`--allow ${trimmed}: unknown entitlement; expected ${ENTITLEMENTS.join(' or ')}`);
      }
      return trimmed as Entitlement;
    }),
  );
}

/** Refuses the first step of `vertices` that needs an entitlement the build was not given. */
export function requireEntitlements(vertices: readonly Vertex[], allowed: ReadonlySet<Entitlement>): void {
  for (const v of vertices) {
    if (v.op !== 'exec') continue;
    const needed: [Entitlement, string][] = [
      ...(v.network === 'host' ? [['network.host', "the host's network"] as [Entitlement, string]] : []),
      ...(v.security === 'insecure'
        ? [
            ['security.insecure', 'a privileged container (every capability, no seccomp filter)'] as [
              Entitlement,
              string,
            ],
          ]
        : []),
    ];
    for (const [entitlement, what] of needed) {
      if (allowed.has(entitlement)) continue;
      throw new DockerfileError(
        v.description.file,
        v.description.line,
        `${v.description.text}: needs ${what}, which this build is not allowed`,
        {
          hint: `allow it only for a Dockerfile you trust: tcbuild build --allow ${entitlement}`,
        },
      );
    }
  }
}
