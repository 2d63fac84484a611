import type { DockerfileStages, Instruction } from '../instructions.js';
import type { BuildChecks } from './build-checks.js';
import { RULES } from './rules.js';

/** Names a stage may not take: they mean something else in FROM and --from. */
const RESERVED_STAGE_NAMES = ['context', 'scratch'];

/** The checks on how the Dockerfile is written, over every stage (BuildKit runs them while parsing). */
export function checkSyntax(parsed: DockerfileStages, checks: BuildChecks): void {
  for (const stage of parsed.stages) {
    checkFromCasing(stage.from, checks);
    for (const ins of stage.instructions) {
      if (ins.kind === 'MAINTAINER') checks.report(RULES.MaintainerDeprecated, ins.line);
    }
  }
  checkStageNames(parsed, checks);
  checkInstructionCasing(parsed, checks);
}

function checkFromCasing(from: Instruction & { kind: 'FROM' }, checks: BuildChecks): void {
  if (!from.as) return;
  if (from.as.name !== from.as.name.toLowerCase()) checks.report(RULES.StageNameCasing, from.line, from.as.name);
  const keyword = from.keywordAsWritten;
  // A FROM of mixed case is ConsistentInstructionCasing's to report.
  if (!isOneCase(keyword)) return;
  const as = from.as.keyword;
  const matches = keyword === keyword.toLowerCase() ? as === as.toLowerCase() : as === as.toUpperCase();
  if (!matches) checks.report(RULES.FromAsCasing, from.line, keyword, as);
}

function checkStageNames(parsed: DockerfileStages, checks: BuildChecks): void {
  const seen = new Set<string>();
  for (const { name, from } of parsed.stages) {
    if (name === undefined) continue;
    if (RESERVED_STAGE_NAMES.includes(name)) checks.report(RULES.ReservedStageName, from.line, name);
    if (seen.has(name)) checks.report(RULES.DuplicateStageName, from.line, name);
    seen.add(name);
  }
}

/** Each keyword in one case, the case most keywords of the stages have (ARGs before the first FROM do not count). */
function checkInstructionCasing(parsed: DockerfileStages, checks: BuildChecks): void {
  const instructions = parsed.stages.flatMap((stage) => [stage.from, ...stage.instructions]);
  let lower = 0;
  let upper = 0;
  for (const { keywordAsWritten: keyword } of instructions) {
    if (!isOneCase(keyword)) continue;
    if (keyword === keyword.toLowerCase()) lower++;
    else upper++;
  }
  const majority = lower > upper ? 'lowercase' : 'uppercase';
  for (const { keywordAsWritten: keyword, line } of instructions) {
    const wanted = majority === 'lowercase' ? keyword.toLowerCase() : keyword.toUpperCase();
    if (keyword !== wanted) checks.report(RULES.ConsistentInstructionCasing, line, keyword, majority);
  }
}

function isOneCase(word: string): boolean {
  return word === word.toLowerCase() || word === word.toUpperCase();
}
