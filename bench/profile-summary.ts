// Self time per function and per area of a V8 CPU profile (node --cpu-prof, or node:inspector's Profiler).
import { readFileSync } from 'node:fs';

export interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

/** Self time per function and per area (our core, the SDK's protobuf, grpc-js, node internals, GC). */
export function summariseProfile(file: string | { nodes: ProfileNode[] }, top = 25): string {
  const profile = typeof file === 'string' ? (JSON.parse(readFileSync(file, 'utf8')) as { nodes: ProfileNode[] }) : file;
  const total = profile.nodes.reduce((n, node) => n + (node.hitCount ?? 0), 0);
  const byFunction = new Map<string, number>();
  const byArea = new Map<string, number>();
  for (const node of profile.nodes) {
    const hits = node.hitCount ?? 0;
    if (hits === 0) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const area = areaOf(url, functionName);
    const key = `${functionName || '(anonymous)'} ${url.replace(/^.*\/(node_modules|dist)\//, '$1/')}:${lineNumber + 1}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + hits);
    byArea.set(area, (byArea.get(area) ?? 0) + hits);
  }
  const pct = (n: number): string => `${((100 * n) / total).toFixed(1).padStart(5)} %`;
  const sorted = (m: Map<string, number>): Array<[string, number]> => [...m.entries()].sort((a, b) => b[1] - a[1]);
  return [
    `${total} samples`,
    'by area:',
    ...sorted(byArea).map(([k, n]) => `  ${pct(n)}  ${k}`),
    `top ${top} functions by self time:`,
    ...sorted(byFunction)
      .slice(0, top)
      .map(([k, n]) => `  ${pct(n)}  ${k}`),
  ].join('\n');
}

function areaOf(url: string, fn: string): string {
  if (fn === '(garbage collector)') return 'GC';
  if (fn === '(idle)' || fn === '(program)') return fn;
  if (url.includes('/core/')) return 'function core';
  if (url.includes('/functions/secure-bucket/')) return 'function adapter/server';
  if (url.includes('function-sdk-typescript') || url.includes('protobufjs') || url.includes('long')) return 'SDK protobuf (ts-proto)';
  if (url.includes('@grpc/')) return 'grpc-js';
  if (url.startsWith('node:')) return 'node internals';
  return url === '' ? 'native/builtins' : 'other';
}
