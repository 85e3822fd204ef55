// `flare-agent start` as a child process (the built CLI, so the web page is served from <repo>/web).
import { spawn, type ChildProcess } from 'node:child_process';
import { CLI } from '../helpers.js';

export interface AgentChild {
  port: number;
  child: ChildProcess;
  stop(): Promise<void>;
}

export function startAgentChild(args: string[], timeoutMs = 20_000): Promise<AgentChild> {
  const child = spawn(process.execPath, [CLI, 'start', '--listen', '127.0.0.1:0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`agent did not start: ${out}`));
    }, timeoutMs);
    const onData = (d: Buffer): void => {
      out += d.toString();
      for (const line of out.split('\n')) {
        if (!line.startsWith('{')) continue;
        const msg = JSON.parse(line) as { msg?: string; port?: number };
        if (msg.msg === 'listening' && typeof msg.port === 'number') {
          clearTimeout(timer);
          child.stdout?.off('data', onData);
          child.stdout?.resume();
          resolve({
            port: msg.port,
            child,
            stop: () =>
              new Promise<void>((done) => {
                if (child.exitCode !== null) return done();
                child.once('exit', () => done());
                child.kill('SIGTERM');
              }),
          });
          return;
        }
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`agent exited with ${code}: ${out}`));
    });
  });
}
