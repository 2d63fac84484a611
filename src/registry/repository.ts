import type { Transport } from './transport.js';

/** One repository on one registry, with the access (token scopes) this session asked for. */
export interface RemoteRepository {
  transport: Transport;
  /** The repository path on the registry: "team/app", "library/busybox". */
  name: string;
  /** "localhost:5000/team/app", for messages and progress events. */
  display: string;
  scopes: string[];
}

/** "localhost:5000/team/app:1" or "…@sha256:…", for messages about one manifest. */
export function manifestName(repo: RemoteRepository, reference: string): string {
  return `${repo.display}${reference.startsWith('sha256:') ? '@' : ':'}${reference}`;
}
