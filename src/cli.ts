#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { loadConfig, type Config, type LoadResult } from './config/index.js';
import { isGatewayError } from './errors.js';
import { createLogger, type Logger } from './log.js';
import { explainToken, mintToken, splitRoomUrl, tokenInUrl } from './operator/index.js';
import { describeGateway, startGateway, type RunningGateway } from './server/index.js';
import { createSigner, loadKeys } from './token/index.js';

const USAGE = `usage: jitsi-cert-gateway [run] [--config FILE] [--development]
       jitsi-cert-gateway check-config [--config FILE]
       jitsi-cert-gateway token --dn DN --room PATH [--issuer-dn DN] [--serial HEX]
                                [--fingerprint HEX] [--email ADDRESS] [--config FILE]
       jitsi-cert-gateway explain [TOKEN] --url URL [--config FILE]

  run            start the gateway (the default)
  check-config   validate the configuration, print the result, exit 0 or 1
  token          print the token the gateway would mint for this subject DN on this room page
  explain        say, claim by claim, whether Jitsi accepts TOKEN (or the one in URL) there;
                 exit 0 when it does, 1 when it does not
  --config FILE  read FILE on top of config/default.json (or set GATEWAY_CONFIG)
  --development  fill missing secrets with random ones (never in production)`;

const COMMANDS: Readonly<Record<string, readonly string[]>> = {
  run: ['config', 'development'],
  'check-config': ['config', 'development'],
  token: ['config', 'dn', 'room', 'issuer-dn', 'serial', 'fingerprint', 'email'],
  explain: ['config', 'url'],
};

type Values = Record<string, string | boolean | undefined>;

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
        dn: { type: 'string' },
        room: { type: 'string' },
        'issuer-dn': { type: 'string' },
        serial: { type: 'string' },
        fingerprint: { type: 'string' },
        email: { type: 'string' },
        url: { type: 'string' },
      },
    });
  } catch (error) {
    return usageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  const command = values['check-config'] ? 'check-config' : (positionals[0] ?? 'run');
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const problem = checkCommandLine(command, values, positionals);
  if (problem) return usageError(problem);

  const load = (): LoadResult =>
    loadConfig({ file: values.config, development: values.development });
  const result = load();
  if (!result.ok) {
    console.error(`configuration has ${result.problems.length} problem(s):`);
    for (const problem of result.problems) console.error(`  ${problem}`);
    return 1;
  }
  switch (command) {
    case 'check-config':
      return checkConfig(result.config, result.warnings);
    case 'token':
      return printToken(result.config, values);
    case 'explain':
      return explain(result.config, positionals[1], values.url as string);
    default: {
      const logger = createLogger({ level: result.config.logLevel });
      for (const warning of result.warnings) logger.warn(warning);
      return run(result.config, logger, load);
    }
  }
}

function checkCommandLine(command: string, values: Values, positionals: string[]) {
  const allowed = COMMANDS[command];
  if (!allowed) return `unknown command: ${command}`;

  const stray = Object.keys(values).find(
    (name) => name !== 'check-config' && !allowed.includes(name),
  );
  if (stray) return `--${stray} is not an option of ${command}`;
  if (positionals.length > (command === 'explain' ? 2 : 1)) {
    return `${command} takes no argument ${JSON.stringify(positionals.at(-1))}`;
  }
  if (command === 'token' && (values.dn === undefined || values.room === undefined)) {
    return 'token needs --dn and --room';
  }
  if (command === 'explain' && values.url === undefined) return 'explain needs --url';

  return undefined;
}

/** The keys too: a configuration whose key file cannot be read would stop the start. */
function checkConfig(config: Readonly<Config>, warnings: string[]): number {
  for (const warning of warnings) console.error(warning);
  try {
    loadKeys(config.token);
  } catch (error) {
    if (!isGatewayError(error)) throw error;
    console.error('configuration has 1 problem(s):');
    console.error(`  ${error.message}`);
    return 1;
  }
  console.log('configuration is valid');
  return 0;
}

function usageError(message: string): number {
  console.error(`${message}\n${USAGE}`);
  return 2;
}

async function printToken(config: Readonly<Config>, values: Values): Promise<number> {
  const text = (name: string) => values[name] as string | undefined;
  const minted = await mintToken(
    config,
    {
      subjectDn: text('dn') as string,
      room: text('room') as string,
      issuerDn: text('issuer-dn'),
      serial: text('serial'),
      fingerprint: text('fingerprint'),
      email: text('email'),
    },
    Math.floor(Date.now() / 1000),
  );
  switch (minted.kind) {
    case 'token':
      console.log(minted.token);
      return 0;
    case 'refused':
      console.error(`refused by rules.list.${minted.rule}: ${minted.reason}`);
      return 1;
    case 'invalid':
      console.error(minted.problem);
      return 1;
  }
}

async function explain(config: Readonly<Config>, given: string | undefined, url: string) {
  const token = given ?? tokenInUrl(splitRoomUrl(url));
  if (token === undefined) return usageError('explain needs a TOKEN, or a --url that carries one');

  const signer = createSigner(loadKeys(config.token));
  const now = Math.floor(Date.now() / 1000);
  const explanation = await explainToken({ token, url, config, signer, now });
  for (const check of explanation.checks) {
    console.log(`${check.verdict.padEnd(5)} ${check.item.padEnd(22)} ${check.detail}`);
  }

  const failed = explanation.checks.filter((check) => check.verdict === 'fail').length;
  const path = splitRoomUrl(url).rawPath;
  console.log(
    explanation.acceptable
      ? `Jitsi accepts this token for ${path}`
      : `Jitsi refuses this token for ${path}: ${failed} check(s) failed`,
  );
  return explanation.acceptable ? 0 : 1;
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
    {
      listen: gateway.url,
      metrics: gateway.metricsUrl ?? 'off',
      ...describeGateway(gateway.current()),
    },
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
  logger.info(
    { listen: gateway.url, ...describeGateway(gateway.current()) },
    'configuration reloaded',
  );
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
