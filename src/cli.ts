#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { loadConfig, type Config } from './config/index.js';
import { isGatewayError } from './errors.js';
import { createLogger, type Logger } from './log.js';
import { startGateway } from './server/index.js';

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

  const result = loadConfig({ file: values.config, development: values.development });
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
  return run(result.config, logger);
}

async function run(config: Readonly<Config>, logger: Logger): Promise<number> {
  let gateway;
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
    {
      listen: gateway.url,
      upstream: config.upstream.url,
      trustedProxies: config.identity.trustedProxies,
      guests: config.inject.guests,
      issuer: config.token.appId,
      secret: config.token.secret ? 'set' : 'missing',
      development: config.development,
    },
    'gateway started',
  );

  return new Promise((resolve) => {
    const stop = (signal: string): void => {
      logger.info({ signal }, 'stopping');
      gateway.close().then(
        () => resolve(0),
        () => resolve(1),
      );
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(`jitsi-cert-gateway: ${(error as Error).message}`);
    process.exitCode = 1;
  },
);
