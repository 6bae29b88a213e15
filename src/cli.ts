#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { loadConfig, type Config, type LoadResult } from './config/index.js';
import { isGatewayError } from './errors.js';
import { createLogger, type Logger } from './log.js';
import { describeConfig, startGateway, type RunningGateway } from './server/index.js';

const USAGE = `usage: jitsi-cert-gateway [run] [--config FILE] [--development]
       jitsi-cert-gateway check-config [--config FILE]

  run            start the gateway (the default)
  check-config   validate the configuration, print the result, exit 0 or 1
  --config FILE  read FILE on top of config/default.json (or set GATEWAY_CONFIG)
  --development  fill missing secrets with random ones (never in production)`;

/** The process entry point: the only place that writes to stderr directly or exits. */
async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        config: { type: 'string' },
        development: { type: 'boolean' },
        'check-config': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const command = values['check-config'] ? 'check-config' : (positionals[0] ?? 'run');
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (command !== 'run' && command !== 'check-config') {
    console.error(`unknown command: ${command}\n${USAGE}`);
    return 2;
  }

  const load = (): LoadResult =>
    loadConfig({ file: values.config, development: values.development });
  const result = load();
  if (!result.ok) {
    console.error(`configuration has ${result.problems.length} problem(s):`);
    for (const problem of result.problems) console.error(`  ${problem}`);
    return 1;
  }
  if (command === 'check-config') {
    for (const warning of result.warnings) console.error(warning);
    console.log('configuration is valid');
    return 0;
  }

  const logger = createLogger({ level: result.config.logLevel });
  for (const warning of result.warnings) logger.warn(warning);
  return run(result.config, logger, load);
}

async function run(
  config: Readonly<Config>,
  logger: Logger,
  load: () => LoadResult,
): Promise<number> {
  // Node's default action for SIGHUP ends the process; a reload asked for too early is ignored.
  const tooEarly = (): void => logger.warn('SIGHUP before the gateway started: ignored');
  process.on('SIGHUP', tooEarly);
  let gateway: RunningGateway;
  try {
    gateway = await startGateway({ config, logger });
  } catch (error) {
    const message = isGatewayError(error) ? error.message : (error as Error).message;
    logger.fatal(
      { code: isGatewayError(error) ? error.code : undefined },
      `cannot start: ${message}`,
    );
    return 1;
  }
  logger.info(
    { listen: gateway.url, metrics: gateway.metricsUrl ?? 'off', ...describeConfig(config) },
    'gateway started',
  );

  return new Promise((resolve) => {
    let stopping = false;
    const stop = (signal: string, exitCode: number): void => {
      if (stopping) return;

      stopping = true;
      const graceSeconds = gateway.current().config.server.shutdownGraceSeconds;
      logger.info({ signal, graceSeconds }, 'stopping');
      gateway.close().then(
        (report) => {
          logger.info(report, 'stopped');
          resolve(exitCode);
        },
        (error: unknown) => {
          logger.error({ err: error }, 'could not stop cleanly');
          resolve(1);
        },
      );
    };
    // `once`: a second SIGTERM or SIGINT gets Node's default action and ends the process at once.
    process.once('SIGTERM', () => stop('SIGTERM', 0));
    process.once('SIGINT', () => stop('SIGINT', 0));
    process.off('SIGHUP', tooEarly);
    process.on('SIGHUP', () => {
      if (!stopping) reload(gateway, logger, load);
    });
    // A stray rejected promise leaves no half-changed state behind: log it and keep serving.
    process.on('unhandledRejection', (reason) => {
      logger.error({ err: reason }, 'unhandled promise rejection; the gateway keeps running');
    });
    // After an exception nothing is known about the process state: stop gracefully, exit 1.
    process.on('uncaughtException', (error) => {
      logger.fatal({ err: error }, 'uncaught exception; stopping');
      stop('uncaughtException', 1);
    });
  });
}

/**
 * SIGHUP: read the configuration again and swap in a gateway built from it. Connections stay
 * open; a configuration that does not validate, or a key that cannot be used, is refused and
 * the current one keeps serving.
 */
function reload(gateway: RunningGateway, logger: Logger, load: () => LoadResult): void {
  logger.info({ signal: 'SIGHUP' }, 'reloading the configuration');
  const result = load();
  if (!result.ok) {
    gateway.metrics.configReloaded('rejected');
    logger.error({ problems: result.problems }, RELOAD_REJECTED);
    return;
  }

  let outcome;
  try {
    outcome = gateway.reload(result.config);
  } catch (error) {
    const code = isGatewayError(error) ? error.code : undefined;
    logger.error({ code, problems: [(error as Error).message] }, RELOAD_REJECTED);
    return;
  }
  logger.level = result.config.logLevel;
  for (const warning of result.warnings) logger.warn(warning);
  if (outcome.notApplied.length > 0) {
    logger.warn({ settings: outcome.notApplied }, 'listen addresses change only on a restart');
  }
  logger.info({ listen: gateway.url, ...describeConfig(result.config) }, 'configuration reloaded');
}

const RELOAD_REJECTED = 'configuration reload rejected: keeping the current configuration';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(`jitsi-cert-gateway: ${(error as Error).message}`);
    process.exitCode = 1;
  },
);
