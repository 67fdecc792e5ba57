import { EnvironmentError } from '../errors.js';

/**
 * MPE_ENV_INVALID for variable `name`: what was expected and, if given, the value (quoted, at
 * most 200 characters). Never used for the token: its value must not appear in any message.
 */
export function invalidVariable(name: string, expected: string, value?: string): EnvironmentError {
  if (value === undefined) return new EnvironmentError('MPE_ENV_INVALID', name, `${name}: ${expected}`);
  const shown = value.length > 200 ? `${JSON.stringify(value.slice(0, 200))}…` : JSON.stringify(value);
  return new EnvironmentError('MPE_ENV_INVALID', name, `${name}: ${expected}; got ${shown}`);
}
