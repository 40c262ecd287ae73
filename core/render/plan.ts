import { countPlan, type IssuePlan } from '../issue-plan.js';
import { escapeMarkdownCell } from './markdown.js';

/** The plan as a person reads it before running `issues apply`. */
export function renderIssuePlanMarkdown(plan: IssuePlan, repository: string | undefined): string {
  const c = countPlan(plan);
  const lines = [
    `# Issue plan${repository ? ` for ${escapeMarkdownCell(repository)}` : ''}`,
    '',
    `${c.create} to create, ${c.update} to update, ${c.reopen} to reopen, ${c.close} to close, ${c.unchanged} unchanged, ${plan.held.length} held (scan failed).`,
    '',
  ];
  for (const change of plan.changes) {
    const what = change.action === 'update' && change.reopen ? 'reopen' : change.action;
    const number = change.action === 'create' ? '' : ` #${change.number}`;
    lines.push(`- **${what}**${number}: ${escapeMarkdownCell(change.image)}${change.action === 'close' ? '' : ` (labels: ${change.labels.map(escapeMarkdownCell).join(', ')})`}`);
  }
  if (plan.held.length) {
    lines.push('', '## Held: scan failed this run, issue left as it is', '');
    plan.held.forEach((image) => lines.push(`- ${escapeMarkdownCell(image)}`));
  }
  return `${lines.join('\n')}\n`;
}
