import { TcbuildError } from '../errors.js';

/** An error in a Dockerfile, named by file and line as BuildKit names them. */
export class DockerfileError extends TcbuildError {
  constructor(
    readonly file: string,
    readonly line: number,
    message: string,
    options: { hint?: string; cause?: unknown } = {},
  ) {
    super(`${file}:${line}: ${message}`, options);
  }
}
