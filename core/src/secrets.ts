/**
 * What of a setting's value may appear in an error or a log line. Secrets are never echoed: a bad
 * PC_JWT_SECRET or credentials variable prints what is wrong with it, not what it is, and a URL
 * shows its user and host but not its password.
 */

/** Variables whose whole value is a secret (a key, a password, credentials JSON, a token). */
const SECRET_NAME = /(SECRET|PASSWORD|PASSWD|TOKEN|CREDENTIALS|AUTH_KEY|API_KEY|PRIVATE_KEY)/i;

/** `scheme://user:password@host`: the password, also in a value that is not a valid URL. */
const URL_PASSWORD = /^([A-Za-z][A-Za-z0-9+.-]*:\/\/[^:@/\s]*:)[^@\s]*@/;

export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

/** The URL with its password (if any) replaced by `***`. Works on malformed URLs too. */
export function redactUrl(value: string): string {
  return value.replace(URL_PASSWORD, '$1***@');
}

/** A config error's echo of a variable's value: hidden for secrets, passwords masked in URLs. */
export function describeValue(name: string, value: string | undefined): string {
  if (value === undefined) return 'unset';
  if (isSecretName(name)) return `a value of ${value.length} characters, not shown`;
  return JSON.stringify(redactUrl(value));
}

/**
 * pino `redact` paths: credentials that a log line could carry by accident (a request's headers,
 * a frame or a message with a token, a config object): the top level and one level down.
 */
export const LOG_REDACT_PATHS: readonly string[] = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'headers.cookie',
  'authorization',
  'token',
  'password',
  'secret',
  '*.token',
  '*.password',
  '*.secret',
  '*.authorization',
];
