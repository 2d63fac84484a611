import { formatReference, parseReference } from '../../src/registry/reference.js';
import { PropertyViolation, type FuzzTarget } from '../target.js';

/** Image references: parsing, and that the normalized form parses back to itself. */
export const target: FuzzTarget = {
  description: 'image references (src/registry/reference.ts): parse, and the normalized form round-trips',
  fuzz(data) {
    const ref = parseReference(data.toString('utf8'));
    const again = parseReference(formatReference(ref));
    if (JSON.stringify(again) !== JSON.stringify(ref)) {
      throw new PropertyViolation(
        `${JSON.stringify(ref)} formats as "${formatReference(ref)}", which parses as ${JSON.stringify(again)}`,
      );
    }
  },
  seeds: () =>
    [
      'busybox',
      'library/busybox:1.36',
      'docker.io/library/busybox:latest',
      'index.docker.io/team/app',
      'localhost:5000/team/app:v1.2.3',
      `registry.example.com:443/a/b/c@sha256:${'a'.repeat(64)}`,
      `[::1]:5000/app:tag@sha256:${'0123456789abcdef'.repeat(4)}`,
      'Example.COM/app',
      'a__b.c-d/e---f:_tag',
    ].map((s) => Buffer.from(s)),
  dictionary: [
    '/',
    ':',
    '@',
    'sha256:',
    'sha512:',
    'localhost',
    'docker.io',
    'index.docker.io',
    'library/',
    '[::1]',
    ':5000',
    '__',
    '--',
    '.',
    'a'.repeat(64),
    'A',
  ],
  maxLength: 512,
};
