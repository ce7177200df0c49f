import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * Structured JSON logs. Tokens, the Authorization header, cookies and passwords are redacted;
 * resource bodies are never logged.
 */
export function createLogger(level: string, name: string): Logger {
  return pino({
    name,
    level,
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        'headers.authorization',
        'headers.cookie',
        '*.password',
        '*.client_secret',
        '*.access_token',
        '*.refresh_token',
        '*.id_token',
      ],
      censor: '[redacted]',
    },
  });
}
