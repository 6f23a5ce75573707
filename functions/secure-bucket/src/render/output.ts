// Writing to stdout without losing output: a pipe takes 64 KiB at a time, so a write resolves only
// once the stream has taken it, and the CLI ends by setting process.exitCode (never
// process.exit(), which drops what is still buffered).
import type { Writable } from 'node:stream';

export function write(text: string, stream: Writable = process.stdout): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.write(text, (err) => (err ? reject(err) : resolve()));
  });
}

/** Runs the CLI's main and sets the exit code; Node exits once stdout has drained. */
export function runCli(name: string, main: (argv: string[]) => Promise<number>): void {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`${name}: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
