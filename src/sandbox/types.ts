/** A mount in OCI runtime-spec style. */
export interface Mount {
  type: string;
  source: string;
  destination: string;
  options: string[];
}

export interface ContainerUser {
  uid: number;
  gid: number;
  additionalGids: number[];
}

export interface ContainerRequest {
  /** Mounted in order at the container's root, e.g. one overlay mount or one rbind mount. */
  rootfs: Mount[];
  /** An empty host directory; the rootfs is mounted there only inside the container's mount namespace. */
  mountpoint: string;
  /** argv; args[0] is looked up in the container env's PATH if it has no '/'. */
  args: string[];
  /** "K=V" entries. */
  env: string[];
  /** Absolute path inside the container; created (0755) if missing. */
  cwd: string;
  user: ContainerUser;
  hostname: string;
  /** 'none': a new network namespace with only lo, up. */
  network: 'host' | 'none';
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
  /** Abort kills the container's init with SIGKILL; the result then carries the signal. */
  signal?: AbortSignal;
}

/** e.g. {exitCode: 3, signal: null} or {exitCode: null, signal: 'SIGKILL'}. */
export interface ContainerResult {
  exitCode: number | null;
  signal: string | null;
}
