// The access diff as Markdown for a pull-request comment: per claim, per principal, the requests it
// gains and loses (grouped by request, the paths listed), then the resources that change.
import type { AccessChange, ClaimDiff, ResourceChange } from './access-diff.js';

function byPrincipalAndRequest(changes: AccessChange[]): Map<string, Map<string, AccessChange[]>> {
  const out = new Map<string, Map<string, AccessChange[]>>();
  for (const c of changes) {
    const requests = out.get(c.principal) ?? new Map<string, AccessChange[]>();
    requests.set(c.request, [...(requests.get(c.request) ?? []), c]);
    out.set(c.principal, requests);
  }
  return out;
}

const code = (s: string): string => `\`${s.replace(/`/g, "'")}\``;

function principalSection(diff: ClaimDiff): string[] {
  const gains = byPrincipalAndRequest(diff.gains);
  const losses = byPrincipalAndRequest(diff.losses);
  const principals = [...new Set([...gains.keys(), ...losses.keys()])];
  if (principals.length === 0) return ['No principal gains or loses access.'];
  const lines: string[] = [];
  for (const p of principals) {
    const g = gains.get(p) ?? new Map();
    const l = losses.get(p) ?? new Map();
    lines.push(`#### ${code(p)}: ${g.size} request(s) gained, ${l.size} lost`);
    const rows = (what: string, m: Map<string, AccessChange[]>) =>
      [...m].map(
        ([request, cs]) =>
          `| ${what} | ${code(request)} | ${cs.map((c) => code(c.path)).join(' ')} | ${[...new Set(cs.map((c) => code(c.decidedBy)))].join(' ')} |`,
      );
    lines.push(
      '',
      '| change | request | paths | allowed by |',
      '|---|---|---|---|',
      ...rows('**gains** (Denied → Allowed)', g),
      ...rows('loses (Allowed → Denied)', l),
      '',
    );
  }
  return lines;
}

function resourceSection(changes: ResourceChange[]): string[] {
  if (changes.length === 0) return ['No resource is added, removed or changed.'];
  return [
    '| change | resource | kind | fields |',
    '|---|---|---|---|',
    ...changes.map((c) => `| ${c.change} | ${code(c.name)} | ${c.kind} | ${c.fields.map(code).join(', ')} |`),
  ];
}

function alertSection(diff: ClaimDiff): string[] {
  const { added, removed } = diff.alerts;
  if (added.length + removed.length === 0) return ['No change-alert route is added or removed.'];
  return [
    ...(removed.length > 0 ? [`:warning: **${removed.length} change-alert route(s) removed**: ${removed.map(code).join(', ')}`] : []),
    ...(added.length > 0 ? [`${added.length} change-alert route(s) added: ${added.map(code).join(', ')}`] : []),
  ];
}

export function formatDiffMarkdown(diffs: ClaimDiff[]): string {
  const widening = diffs.filter((d) => d.gains.length > 0);
  const lines = [
    '## Access diff',
    '',
    widening.length > 0 ? `:warning: **Access widens** in ${widening.map((d) => code(d.claim)).join(', ')}.` : 'No principal gains access.',
    '',
    'Every principal × action × place × path of each claim, evaluated with the IAM policy simulator (`@cloud-copilot/iam-simulate`) on the base and on the head render (the same requests as `render --explain-access`).',
  ];
  for (const d of diffs) {
    lines.push(
      '',
      `### ${code(d.claim)}`,
      '',
      `${d.gains.length} gained, ${d.losses.length} lost (requests evaluated: ${d.evaluated.base} base, ${d.evaluated.head} head).`,
      '',
    );
    lines.push(...principalSection(d), '', '**Change alerts**', '', ...alertSection(d), '', '**Resources**', '', ...resourceSection(d.resources));
  }
  return `${lines.join('\n')}\n`;
}
