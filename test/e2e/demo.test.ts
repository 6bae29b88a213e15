// `npm run demo` as a person trying the gateway runs it: a child process whose printed curl
// commands are followed, then Ctrl-C.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import packageJson from '../../package.json' with { type: 'json' };
import { findCurlCommands, parseCurlCommand, runCurlCommand } from '../helpers/curl-command.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const READY = 'Press Ctrl-C to stop the demo.';

interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

let demo: ChildProcess;
let exited: Promise<Exit>;
let stdout = '';
let stderr = '';

/** The words of the `demo` script, run directly so that the signal reaches the demo itself. */
function demoCommand(): [string, string[]] {
  const [program, ...args] = packageJson.scripts.demo.split(' ');
  if (program !== 'node') throw new Error(`the demo script no longer starts with node: ${program}`);
  return [process.execPath, args];
}

/** Resolves with everything the demo printed so far, once `isComplete` accepts it. */
function printedWhen(isComplete: (text: string) => boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    const check = () => {
      if (!isComplete(stdout)) return;
      demo.stdout?.off('data', check);
      resolve(stdout);
    };
    demo.stdout?.on('data', check);
    void exited.then((exit) =>
      reject(new Error(`the demo exited early (${exit.code ?? exit.signal}): ${stderr}`)),
    );
    check();
  });
}

function printedInstructions(): Promise<string> {
  return printedWhen((text) => text.includes(READY));
}

function decisionsIn(text: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter((line) => line.startsWith('{') && line.includes('"decision"'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

beforeAll(() => {
  const [program, args] = demoCommand();
  // Port 0: the demo must print where it really listens, whatever is free.
  demo = spawn(program, args, {
    cwd: REPO,
    env: { ...process.env, GATEWAY_PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  exited = new Promise((resolve) => {
    demo.once('exit', (code, signal) => resolve({ code, signal }));
  });
  demo.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  demo.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
});

afterAll(async () => {
  if (demo.exitCode === null && demo.signalCode === null) {
    demo.kill('SIGKILL');
    await exited;
  }
});

describe('npm run demo', () => {
  it('warns loudly that it runs in development mode', async () => {
    const printed = await printedInstructions();

    expect(printed).toContain('DEVELOPMENT MODE');
  });

  it("shows a holder's own name and verified claims after one redirect", async () => {
    const [alice] = findCurlCommands(await printedInstructions());
    const result = await runCurlCommand(parseCurlCommand(alice ?? ''));

    expect(result.statuses).toEqual([302, 200]);
    expect(result.body).toContain('Hello, Alice Example <alice@example.org>.');
    expect(result.body).toContain("The token's signature verifies with the gateway's secret.");
    expect(result.body).toContain('"room": "team%20sync"');
    expect(result.body).toContain('Identity headers that reached this page: none.');
  });

  it('shows a second holder opening the same link their own name', async () => {
    const [, bob] = findCurlCommands(await printedInstructions());
    const result = await runCurlCommand(parseCurlCommand(bob ?? ''));

    expect(result.statuses).toEqual([302, 200]);
    expect(result.body).toContain('Hello, Bob Builder.');
  });

  it('shows a guest the room page without a token', async () => {
    const [, , guest] = findCurlCommands(await printedInstructions());
    const result = await runCurlCommand(parseCurlCommand(guest ?? ''));

    expect(result.statuses).toEqual([200]);
    expect(result.body).toContain('No token');
  });

  it('logs each visit as a JSON line with its decision', async () => {
    const [alice, , guest] = findCurlCommands(await printedInstructions());
    await runCurlCommand(parseCurlCommand(alice ?? ''));
    await runCurlCommand(parseCurlCommand(guest ?? ''));

    const printed = await printedWhen((text) => decisionsIn(text).length >= 3);
    const decisions = decisionsIn(printed);
    expect(decisions).toContainEqual(expect.objectContaining({ decision: 'redirect' }));
    expect(decisions).toContainEqual(expect.objectContaining({ reason: 'token-usable' }));
    expect(decisions).toContainEqual(expect.objectContaining({ reason: 'guest' }));
  });

  it('stops cleanly with exit code 0 on Ctrl-C', async () => {
    await printedInstructions();
    demo.kill('SIGINT');

    expect(await exited).toEqual({ code: 0, signal: null });
  });
});
