/**
 * The build checks BuildKit's Dockerfile frontend runs (frontend/dockerfile/linter), with its
 * names, descriptions and documentation pages, and the message each prints.
 */

export interface CheckRule<A extends unknown[]> {
  name: string;
  description: string;
  url: string | undefined;
  format(...args: A): string;
}

function rule<A extends unknown[]>(
  name: string,
  description: string,
  page: string | undefined,
  format: (...args: A) => string,
): CheckRule<A> {
  return { name, description, url: page && `https://docs.docker.com/go/dockerfile/rule/${page}/`, format };
}

const didYouMean = (suggestion: string | undefined) => (suggestion ? ` (did you mean ${suggestion}?)` : '');

export const RULES = {
  StageNameCasing: rule(
    'StageNameCasing',
    'Stage names should be lowercase',
    'stage-name-casing',
    (stage: string) => `Stage name '${stage}' should be lowercase`,
  ),
  FromAsCasing: rule(
    'FromAsCasing',
    "The 'as' keyword should match the case of the 'from' keyword",
    'from-as-casing',
    (from: string, as: string) => `'${as}' and '${from}' keywords' casing do not match`,
  ),
  ConsistentInstructionCasing: rule(
    'ConsistentInstructionCasing',
    'All commands within the Dockerfile should use the same casing (either upper or lower)',
    'consistent-instruction-casing',
    (command: string, casing: 'lowercase' | 'uppercase') =>
      `Command '${command}' should match the case of the command majority (${casing})`,
  ),
  DuplicateStageName: rule(
    'DuplicateStageName',
    'Stage names should be unique',
    'duplicate-stage-name',
    (stage: string) => `Duplicate stage name ${JSON.stringify(stage)}, stage names should be unique`,
  ),
  ReservedStageName: rule(
    'ReservedStageName',
    'Reserved words should not be used as stage names',
    'reserved-stage-name',
    (stage: string) => `Stage name should not use the same name as reserved stage ${JSON.stringify(stage)}`,
  ),
  JSONArgsRecommended: rule(
    'JSONArgsRecommended',
    'JSON arguments recommended for ENTRYPOINT/CMD to prevent unintended behavior related to OS signals',
    'json-args-recommended',
    (instruction: string) =>
      `JSON arguments recommended for ${instruction} to prevent unintended behavior related to OS signals`,
  ),
  MaintainerDeprecated: rule(
    'MaintainerDeprecated',
    'The MAINTAINER instruction is deprecated, use a label instead to define an image author',
    'maintainer-deprecated',
    () => 'Maintainer instruction is deprecated in favor of using label',
  ),
  UndefinedArgInFrom: rule(
    'UndefinedArgInFrom',
    'FROM command must use declared ARGs',
    'undefined-arg-in-from',
    (arg: string, suggestion?: string) => `FROM argument '${arg}' is not declared${didYouMean(suggestion)}`,
  ),
  WorkdirRelativePath: rule(
    'WorkdirRelativePath',
    'Relative workdir without an absolute workdir declared within the build can have unexpected results if the base ' +
      'image changes',
    'workdir-relative-path',
    (workdir: string) =>
      `Relative workdir ${JSON.stringify(workdir)} can have unexpected results if the base image changes`,
  ),
  UndefinedVar: rule(
    'UndefinedVar',
    'Variables should be defined before their use',
    'undefined-var',
    (name: string, suggestion?: string) =>
      `Usage of undefined variable '$${name}'${didYouMean(suggestion === undefined ? undefined : `$${suggestion}`)}`,
  ),
  MultipleInstructionsDisallowed: rule(
    'MultipleInstructionsDisallowed',
    'Multiple instructions of the same type should not be used in the same stage',
    'multiple-instructions-disallowed',
    (instruction: string) =>
      `Multiple ${instruction} instructions should not be used in the same stage because only the last one will be ` +
      'used',
  ),
  LegacyKeyValueFormat: rule(
    'LegacyKeyValueFormat',
    'Legacy key/value format with whitespace separator should not be used',
    'legacy-key-value-format',
    (instruction: string) =>
      `"${instruction} key=value" should be used instead of legacy "${instruction} key value" format`,
  ),
  InvalidBaseImagePlatform: rule(
    'InvalidBaseImagePlatform',
    'Base image platform does not match expected target platform',
    undefined,
    (image: string, expected: string, actual: string) =>
      `Base image ${image} was pulled with platform ${JSON.stringify(actual)}, ` +
      `expected ${JSON.stringify(expected)} for current build`,
  ),
  RedundantTargetPlatform: rule(
    'RedundantTargetPlatform',
    'Setting platform to predefined $TARGETPLATFORM in FROM is redundant as this is the default behavior',
    'redundant-target-platform',
    (platform: string) =>
      `Setting platform to predefined ${platform} in FROM is redundant as this is the default behavior`,
  ),
  SecretsUsedInArgOrEnv: rule(
    'SecretsUsedInArgOrEnv',
    'Sensitive data should not be used in the ARG or ENV commands',
    'secrets-used-in-arg-or-env',
    (instruction: string, key: string) =>
      `Do not use ARG or ENV instructions for sensitive data (${instruction} ${JSON.stringify(key)})`,
  ),
  InvalidDefaultArgInFrom: rule(
    'InvalidDefaultArgInFrom',
    'Default value for global ARG results in an empty or invalid base image name',
    'invalid-default-arg-in-from',
    (base: string) => `Default value for ARG ${base} results in empty or invalid base image name`,
  ),
  FromPlatformFlagConstDisallowed: rule(
    'FromPlatformFlagConstDisallowed',
    'FROM --platform flag should not use a constant value',
    'from-platform-flag-const-disallowed',
    (platform: string) => `FROM --platform flag should not use constant value ${JSON.stringify(platform)}`,
  ),
  CopyIgnoredFile: rule(
    'CopyIgnoredFile',
    'Attempting to Copy file that is excluded by .dockerignore',
    'copy-ignored-file',
    (instruction: 'Copy' | 'Add', path: string) =>
      `Attempting to ${instruction} file ${JSON.stringify(path)} that is excluded by .dockerignore`,
  ),
  ExposeProtoCasing: rule(
    'ExposeProtoCasing',
    'Protocol in EXPOSE instruction should be lowercase',
    'expose-proto-casing',
    (port: string) => `Defined protocol '${port}' in EXPOSE instruction should be lowercase`,
  ),
  ExposeInvalidFormat: rule(
    'ExposeInvalidFormat',
    'IP address and host-port mapping should not be used in EXPOSE instruction. This will become an error in a ' +
      'future ' +
      'release',
    'expose-invalid-format',
    (port: string) => `EXPOSE instruction should not define an IP address or host-port mapping, found '${port}'`,
  ),
} as const;

export type RuleName = keyof typeof RULES;
export const RULE_NAMES = Object.keys(RULES) as RuleName[];
