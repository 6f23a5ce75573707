// One plain-text table: metric, measured value, target, and whether the target is met.
export interface Row {
  metric: string;
  value: string;
  target: string;
  /** undefined: no target for this figure. */
  met: boolean | undefined;
}

export function formatTable(rows: Row[]): string {
  const cells = [['metric', 'measured', 'target', 'met'], ...rows.map((r) => [r.metric, r.value, r.target, r.met === undefined ? '' : r.met ? 'yes' : 'NO'])];
  const widths = cells[0]!.map((_, i) => Math.max(...cells.map((c) => c[i]!.length)));
  const line = (c: string[]): string =>
    c
      .map((v, i) => v.padEnd(widths[i]!))
      .join(' | ')
      .trimEnd();
  return [line(cells[0]!), widths.map((w) => '-'.repeat(w)).join('-|-'), ...cells.slice(1).map(line)].join('\n');
}
