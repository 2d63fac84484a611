import type { ContainerRequest, ContainerResult } from '../sandbox/index.js';

/** What runs a RUN step's command (BuildKit's executor.Executor): the sandbox, or a test's stand-in. */
export interface Executor {
  run(request: ContainerRequest): Promise<ContainerResult>;
}

/** The sandbox (native addon, seccomp, cgroups), loaded when the first step runs: a cached build never needs it. */
export const sandboxExecutor: Executor = {
  async run(request) {
    const { runContainer } = await import('../sandbox/container.js');
    return runContainer(request);
  },
};
