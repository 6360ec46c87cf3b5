#!/usr/bin/env node
import { ConfigError, parseConfig, type Config } from '../../core/src/config.js';
import { withLocalCredentials } from '../../core/src/infra/infraState.js';
import { rootLog } from '../../core/src/log.js';
import { infraCommand } from './infraCommand.js';
import { migrateCommand } from './migrateCommand.js';
import { publishCommand } from './publishCommand.js';
import { tokenCommand } from './tokenCommand.js';
import { upCommand } from './upCommand.js';
import { watchCommand } from './watchCommand.js';
import { UsageError } from './UsageError.js';

const HELP = `polyglot: Polyglot Connect operator CLI

usage: polyglot <command> [options]
  up                  start everything on this machine (infra, migrations, processes) in the foreground
  infra up|down|status|run|exec
                      the local NATS, Postgres and Redis servers
  migrate [up|down|status]
                      apply (or roll back, or list) the database migrations on PC_DATABASE_URL
  publish --session S --wav FILE [--loop] [--node N]
                      play a WAV file into a session as a live Opus source (ffmpeg -> SFU)
  watch --session S --lang L [--json] [--after-seq N] [--finals N]
                      print a session's captions in one language as they arrive
  token --org O [--session S] --role viewer|speaker|host [--name N] [--ttl 3600]
                      print an HS256 development token signed with PC_JWT_SECRET

Configuration comes from PC_* environment variables: see docs/configuration.md.`;

const commands: Record<string, (args: string[], cfg: Config) => Promise<number>> = {
  up: upCommand,
  infra: infraCommand,
  // The tools a user runs beside `polyglot up` find the local infra's passwords by themselves.
  migrate: async (args, cfg) => migrateCommand(args, await withLocalCredentials(cfg, process.env)),
  publish: async (args, cfg) => publishCommand(args, await withLocalCredentials(cfg, process.env)),
  watch: async (args, cfg) => watchCommand(args, await withLocalCredentials(cfg, process.env)),
  // The CLI's main is the one place that reads the environment; token needs PC_ENV and PC_JWT_SECRET.
  token: (args) => tokenCommand(args, process.env),
};

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(`${HELP}\n`);
    return name === undefined ? 2 : 0;
  }
  const command = commands[name];
  if (!command) throw new UsageError(`unknown command '${name}'\n\n${HELP}`);
  return command(args, parseConfig(process.env));
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof UsageError || err instanceof ConfigError) {
      process.stderr.write(`polyglot: ${err.message}\n`);
      process.exitCode = 2;
    } else {
      rootLog.fatal({ err }, 'command failed');
      process.exitCode = 1;
    }
  },
);
