// Every property run is seeded, prints its seed, and replays from it: `<ENV>=<seed> npm test -- <file>`.
/**
 * The seed of a property run: `envVar` when set (to replay a failure), else `fixed` when the run
 * keeps one seed on purpose, else a fresh one. Printed either way, so any failure can be replayed.
 */
export function propertySeed(envVar: string, fixed?: number): number {
  const given = process.env[envVar];
  const seed = given !== undefined && given !== '' ? Number(given) : (fixed ?? Math.floor(Math.random() * 2 ** 31));
  if (!Number.isInteger(seed)) throw new Error(`${envVar}=${String(given)} is not an integer seed`);
  process.stdout.write(`property seed ${seed} (replay: ${envVar}=${seed})\n`);
  return seed;
}
