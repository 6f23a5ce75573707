// A function server as a child process (the compiled main.js, or the echo baseline): start it,
// learn its address from its "listening" log line, read its RSS, stop it with SIGTERM.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface ServerProcess {
  address: string;
  /** host:port of its /metrics endpoint, when started with --metrics-address. */
  metrics?: string;
  /** CPU time (user + system) it has used so far, in ms, from /proc. */
  cpuMs(): number;
  child: ChildProcess;
  /** Resident set size in bytes, from /proc. */
  rssBytes(): number;
  /** SIGTERM, then the exit code (rejects if it does not exit within `timeoutMs`). */
  stop(timeoutMs?: number): Promise<number | null>;
}

const LISTENING = /^\{.*"msg":"function-secure-bucket listening".*\}$/m;

export function startServerProcess(
  script: string,
  args: string[] = ['--insecure', '--address', '127.0.0.1:0'],
  timeoutMs = 15_000,
  nodeFlags: string[] = [],
): Promise<ServerProcess> {
  const child = spawn(process.execPath, [...nodeFlags, script, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, TLS_SERVER_CERTS_DIR: '' },
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let output = '';
  let listening = false;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`${script} did not report listening within ${timeoutMs} ms:\n${output}`)), timeoutMs);
    const fail = (err: Error): void => {
      if (listening) return;
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(err);
    };
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const line = output.match(LISTENING)?.[0];
      if (line === undefined) return;
      listening = true;
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      child.stdout!.resume();
      const logged = JSON.parse(line) as { address: string; metrics?: string };
      resolve({
        address: logged.address,
        ...(logged.metrics ? { metrics: logged.metrics } : {}),
        child,
        cpuMs: () => {
          // Fields 14 and 15 of /proc/<pid>/stat (after the parenthesised name): utime, stime in clock ticks (100 Hz).
          const fields = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
          return (Number(fields[11]) + Number(fields[12])) * 10;
        },
        rssBytes: () => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? Number.NaN) * 1024,
        stop: (stopTimeoutMs = 15_000) => {
          child.kill('SIGTERM');
          return Promise.race([
            exited,
            new Promise<never>((_, rej) =>
              setTimeout(() => rej(new Error(`${script} still running ${stopTimeoutMs} ms after SIGTERM`)), stopTimeoutMs).unref(),
            ),
          ]);
        },
      });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
    void exited.then((code) => fail(new Error(`${script} exited with ${code} before listening:\n${output}`)));
  });
}
