// The one form of every option refusal: "<option>: expected <what>, got <value>".
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { InvalidOptionError } from '../../src/errors.js';
import * as is from '../../src/validate.js';

function refusal(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof InvalidOptionError);
    return `${error.option} | ${error.message}`;
  }
  return assert.fail('no refusal');
}

describe('option checks', () => {
  it('pass a valid value through, and undefined as undefined when optional', () => {
    assert.equal(is.required(3, 'n', is.integer(1, 5)), 3);
    assert.equal(is.optional(undefined, 'n', is.integer(1, 5)), undefined);
    assert.equal(is.optional('json', 'mode', is.oneOf(['json', 'protobuf'])), 'json');
  });

  it('refuse in one form, naming the option, what it expects and what it got', () => {
    assert.equal(refusal(() => is.required(undefined, 'n', is.integer(1, 5))), 'n | n: expected an integer from 1 to 5, got undefined');
    assert.equal(refusal(() => is.optional(1.5, 'n', is.integer(1, 5))), 'n | n: expected an integer from 1 to 5, got 1.5');
    assert.equal(refusal(() => is.optional('x', 'b', is.boolean)), 'b | b: expected a boolean, got "x"');
    assert.equal(refusal(() => is.optional('', 's', is.nonEmptyString)), 's | s: expected a non-empty string, got ""');
    assert.equal(refusal(() => is.optional([], 'o', is.plainObject)), 'o | o: expected an object, got an array');
    assert.equal(refusal(() => is.optional(null, 'o', is.plainObject)), 'o | o: expected an object, got null');
    assert.equal(refusal(() => is.optional({}, 'f', is.func)), 'f | f: expected a function, got an object');
    assert.equal(refusal(() => is.optional(() => 1, 'u', is.url)), 'u | u: expected a URL, got a function');
    assert.equal(refusal(() => is.optional(Infinity, 'x', is.number(0))), 'x | x: expected a finite number >= 0, got Infinity');
    assert.equal(refusal(() => is.optional(11, 'x', is.number(0, 10))), 'x | x: expected a number from 0 to 10, got 11');
    assert.equal(refusal(() => is.optional(0, 'x', is.positiveNumber)), 'x | x: expected a finite number > 0, got 0');
    assert.equal(refusal(() => is.optional(0, 'x', is.positiveInteger)), 'x | x: expected a positive integer, got 0');
    assert.equal(refusal(() => is.optional(-1, 'ms', is.milliseconds())), 'ms | ms: expected a finite number of milliseconds >= 0, got -1');
    assert.equal(refusal(() => is.optional(16, 'ms', is.milliseconds(15))), 'ms | ms: expected a number of milliseconds from 0 to 15, got 16');
    assert.equal(refusal(() => is.optional('c', 'k', is.oneOf(['a', 'b']))), `k | k: expected 'a' or 'b', got "c"`);
    assert.equal(refusal(() => is.optional(1, 'k', is.oneOf(['a', 'b', 'c']))), `k | k: expected 'a', 'b' or 'c', got 1`);
    assert.equal(refusal(() => is.optional(2, 'a', is.array)), 'a | a: expected an array, got 2');
  });
});
