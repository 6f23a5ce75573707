// A tiny JSON-lines logger. No dependency: pino is only a transitive dependency of the SDK,
// and the server needs four levels and structured fields, nothing more.
// Callers pass metadata (names, sizes, durations), never request or response bodies.

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, string | number | boolean | undefined>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Writes one JSON object per line to `write` (stdout by default) for levels at or above `level`. */
export function createLogger(level: LogLevel = 'info', write: (line: string) => void = (line) => process.stdout.write(line)): Logger {
  const at =
    (lvl: LogLevel) =>
    (msg: string, fields: LogFields = {}): void => {
      if (RANK[lvl] < RANK[level]) return;
      // `msg`, `level` and `time` come last so a field cannot overwrite them.
      write(`${JSON.stringify({ ...fields, level: lvl, time: new Date().toISOString(), msg })}\n`);
    };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** A logger that drops everything (library default: callers opt in to logs). */
export const silentLogger: Logger = createLogger('error', () => undefined);

/** The message of anything thrown, without its stack (stacks can quote input values). */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
