// The one way an option is refused (src/validate.ts): an InvalidOptionError, MPE_INVALID_OPTION,
// naming the option in `error.option` and first in its message.
import { strict as assert } from 'node:assert';
import { InvalidOptionError } from '../../src/errors.js';

export function assertInvalidOption(run: () => unknown, option: string, message: string | RegExp): void {
  assert.throws(run, (error: unknown) => {
    if (!(error instanceof InvalidOptionError)) assert.fail(`expected InvalidOptionError, got ${String(error)}`);
    assert.equal(error.code, 'MPE_INVALID_OPTION');
    assert.equal(error.option, option);
    assert.ok(error.message.startsWith(option), `the message names the option first: ${error.message}`);
    if (typeof message === 'string') assert.equal(error.message, message);
    else assert.match(error.message, message);
    return true;
  });
}
