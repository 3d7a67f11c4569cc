/**
 * What the export could not express in AWS, or expressed differently. Every item names the agent
 * (or `*`), the config or policy it comes from, and what was done instead; nothing is dropped silently.
 */
export type ReportArea = 'iam' | 'scp' | 'step-functions' | 'cloudwatch' | 'lambda' | 'bedrock';

export interface ReportItem {
  area: ReportArea;
  /** The agent it concerns; `*` for the whole deployment. */
  agent: string;
  /** The model, tool, limit, retrier or alarm it concerns. */
  subject: string;
  /** What fmguard enforces that the AWS resource does not (or not the same way). */
  message: string;
  /** Where it comes from: a policy id and file:line, or a config path. */
  source?: string;
}

export class ExportReport {
  readonly items: ReportItem[] = [];

  add(item: ReportItem): void {
    this.items.push(item);
  }

  /** A Markdown report: one section per area, one line per item. */
  toMarkdown(): string {
    const lines = [
      '# fmguard export aws: what AWS does not enforce as fmguard does',
      '',
      'Each line is a rule of the config that the exported IAM policies, SCP, alarms or state machines do not express (or express differently).',
      'Keep these enforced at run time (fmguard in front of the agent, or an equivalent AWS control).',
      '',
    ];
    const areas: ReportArea[] = ['iam', 'scp', 'step-functions', 'lambda', 'cloudwatch', 'bedrock'];
    for (const area of areas) {
      const items = this.items.filter((i) => i.area === area);
      if (items.length === 0) continue;
      lines.push(`## ${area}`, '');
      for (const i of items) lines.push(`- agent \`${i.agent}\`, ${i.subject}: ${i.message}${i.source ? ` (${i.source})` : ''}`);
      lines.push('');
    }
    if (this.items.length === 0) lines.push('Nothing: every rule of the config is expressed in the exported resources.', '');
    return lines.join('\n');
  }
}
