#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { loadConfig, type Config } from './config/index.js';
import { isGatewayError } from './errors.js';
import { createLogger, type Logger } from './log.js';
import { explainToken, mintToken, splitRoomUrl, tokenInUrl } from './operator/index.js';
import { startGateway } from './server/index.js';
import { createSigner } from './token/index.js';

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

  const result = loadConfig({ file: values.config, development: values.development });
  if (!result.ok) {
    console.error(`configuration has ${result.problems.length} problem(s):`);
    for (const problem of result.problems) console.error(`  ${problem}`);
    return 1;
  }
  switch (command) {
    case 'check-config':
      for (const warning of result.warnings) console.error(warning);
      console.log('configuration is valid');
      return 0;
    case 'token':
      return printToken(result.config, values);
    case 'explain':
      return explain(result.config, positionals[1], values.url as string);
    default: {
      const logger = createLogger({ level: result.config.logLevel });
      for (const warning of result.warnings) logger.warn(warning);
      return run(result.config, logger);
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

  const signer = createSigner(config.token.secret ?? '');
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
