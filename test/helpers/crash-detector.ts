import { strict as assert } from 'node:assert';
import { after, before } from 'node:test';

/**
 * Collects uncaught exceptions and unhandled rejections for the whole test file (call once at
 * its top level): a test asserts the list is empty, and so does the file's end.
 */
export function crashDetector(): unknown[] {
  const crashes: unknown[] = [];
  const onCrash = (error: unknown): void => void crashes.push(error);
  before(() => {
    process.on('uncaughtException', onCrash);
    process.on('unhandledRejection', onCrash);
  });
  after(() => {
    process.off('uncaughtException', onCrash);
    process.off('unhandledRejection', onCrash);
    assert.deepEqual(crashes, []);
  });
  return crashes;
}
