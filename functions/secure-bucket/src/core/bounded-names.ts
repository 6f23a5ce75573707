// AWS names with a length limit (alarm and rule names, replica buckets): a readable part cut to fit,
// then a short hash of what makes the name unique, so two long names never collide after the cut.
import { shortHash } from './naming.js';

export function boundedName(readable: string, max: number, ...uniqueParts: string[]): string {
  const hash = shortHash(...uniqueParts);
  const cut = readable.slice(0, max - hash.length - 1).replace(/[-.]+$/, '');
  return `${cut}-${hash}`;
}
