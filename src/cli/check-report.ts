import type { BuildCheckWarning } from '../frontend/checks/build-checks.js';

/** How `build --check` and a build's summary print the build checks' warnings, as buildx does. */

const count = (n: number) => (n === 1 ? '1 warning' : `${n} warnings`);

/** `--check`: buildx's report, one paragraph a warning with its rule page and file:line. */
export function formatCheckReport(warnings: BuildCheckWarning[]): string {
  if (warnings.length === 0) return 'Check complete, no warnings found.\n';
  const paragraphs = warnings.map((w) => {
    const url = w.url ? ` - ${w.url}` : '';
    return `WARNING: ${w.rule}${url}\n${w.message}\n${w.file}:${w.line}\n`;
  });
  const found = `${count(warnings.length)} ${warnings.length === 1 ? 'has' : 'have'} been found!`;
  return `Check complete, ${found}\n\n${paragraphs.join('\n')}`;
}

/** `--check --progress json`: one JSON object a warning, as the build's progress events carry them. */
export function formatWarningsJson(warnings: BuildCheckWarning[]): string {
  return warnings.map((w) => `${JSON.stringify({ kind: 'check', ...w })}\n`).join('');
}

/** After a build with warnings: how many, then each with its file and line. */
export function formatWarningSummary(warnings: BuildCheckWarning[]): string {
  const lines = warnings.map((w) => ` - ${w.file}:${w.line}: ${w.rule}: ${w.message}\n`);
  return `${count(warnings.length)} found:\n${lines.join('')}`;
}
