// `npm run demo`: the gateway in development mode in front of the demo room page server, with
// curl commands to try it. Nothing here is part of the gateway a deployment runs.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type Config } from '../src/config/index.js';
import { describeDemo, startDemoRoomServer } from '../src/demo/index.js';
import { createLogger } from '../src/log.js';
import { startGateway } from '../src/server/index.js';

const BANNER = `
  ************************************************************************************
  *  DEVELOPMENT MODE DEMO. Secrets that are not set are random and last for this    *
  *  run only; identity headers are believed from any loopback peer. Never expose it. *
  ************************************************************************************`;

async function main(): Promise<number> {
  // The demo serves plain HTTP on loopback, so the marker cookie cannot be Secure here.
  const env = { ...process.env, GATEWAY_SECURE_COOKIE: 'false' };
  const result = loadConfig({ env, development: true });
  if (!result.ok) {
    console.error(`configuration has ${result.problems.length} problem(s):`);
    for (const problem of result.problems) console.error(`  ${problem}`);
    return 1;
  }

  console.log(BANNER);
  const logger = createLogger({ level: result.config.logLevel });
  for (const warning of result.warnings) logger.warn(warning);

  const cookieDir = await mkdtemp(join(tmpdir(), 'jcg-demo-'));
  // The development secret is filled in by loadConfig, so the room server starts after it.
  const secret = result.config.token.secret ?? '';
  const room = await startDemoRoomServer({ secret });
  const config: Readonly<Config> = {
    ...result.config,
    upstream: { ...result.config.upstream, url: room.url },
  };
  const stopRoom = async () => {
    await room.close();
    await rm(cookieDir, { recursive: true, force: true });
  };

  let gateway;
  try {
    gateway = await startGateway({ config, logger });
  } catch (error) {
    logger.fatal(`cannot start: ${(error as Error).message}`);
    await stopRoom();
    return 1;
  }
  logger.info({ listen: gateway.url, upstream: room.url, development: true }, 'gateway started');
  // pino writes asynchronously: let its lines out first, so that the instructions come last.
  await new Promise<void>((resolve) => logger.flush(() => resolve()));
  console.log(describeDemo({ gatewayUrl: gateway.url, roomServerUrl: room.url, cookieDir }));

  const running = gateway;
  return new Promise((resolve) => {
    const stop = (signal: string): void => {
      logger.info({ signal }, 'stopping');
      Promise.all([running.close(), stopRoom()]).then(
        () => resolve(0),
        () => resolve(1),
      );
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(`demo: ${(error as Error).message}`);
    process.exitCode = 1;
  },
);
