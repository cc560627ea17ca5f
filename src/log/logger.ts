import { pino, type Logger, type LoggerOptions } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

export interface LoggerSetup {
  readonly level: string;
  /** 1 = stdout (the daemon), 2 = stderr (commands that print data on stdout). */
  readonly fd: 1 | 2;
  /** Human-readable output; defaults to whether the destination is a terminal. */
  readonly pretty?: boolean;
}

/**
 * Object paths that may hold secrets. pino's redact works on paths only: strings such as traces and
 * URLs are scrubbed before they are logged (secrets/scrub.ts).
 */
export const REDACT_PATHS = [
  'password',
  'token',
  'secret',
  'routingKey',
  'authorization',
  'config',
  '*.password',
  '*.token',
  '*.secret',
  '*.routingKey',
  '*.authorization',
  'headers.authorization',
  'req.headers.authorization',
];

export function createLogger(setup: LoggerSetup): Logger {
  const options: LoggerOptions = {
    level: setup.level,
    base: { app: 'connect-watchdog' },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  };
  const isTty = setup.fd === 1 ? process.stdout.isTTY : process.stderr.isTTY;
  if (setup.pretty ?? isTty) {
    return pino(options, pretty({ destination: setup.fd, colorize: isTty, sync: true }));
  }
  return pino(options, pino.destination({ dest: setup.fd, sync: true }));
}

/** A logger that drops everything (tests, benchmarks). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
