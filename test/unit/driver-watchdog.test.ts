import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { LivenessWatchdog } from '../../src/driver/watchdog.js';
import { FakeClock } from '../helpers/fake-clock.js';

describe('LivenessWatchdog', () => {
  it('fires once after the timeout of silence', () => {
    const clock = new FakeClock();
    let fired = 0;
    const dog = new LivenessWatchdog(clock, 1000, () => fired++);
    dog.arm();
    clock.tick(999);
    assert.equal(fired, 0);
    clock.tick(1);
    assert.equal(fired, 1);
    clock.tick(10_000);
    assert.equal(fired, 1, 'fires once');
    assert.equal(dog.isArmed, false);
  });

  it('activity postpones the timeout without re-arming a timer per call', () => {
    const clock = new FakeClock();
    let fired = 0;
    const dog = new LivenessWatchdog(clock, 1000, () => fired++);
    dog.arm();
    for (let i = 0; i < 50; i++) {
      clock.tick(100);
      dog.activity();
    }
    assert.equal(fired, 0);
    assert.equal(clock.pending, 1, 'one timer at a time');
    clock.tick(1000);
    assert.equal(fired, 1);
  });

  it('disarm() stops it; arm() restarts the count', () => {
    const clock = new FakeClock();
    let fired = 0;
    const dog = new LivenessWatchdog(clock, 1000, () => fired++);
    dog.arm();
    clock.tick(900);
    dog.disarm();
    clock.tick(5000);
    assert.equal(fired, 0);
    assert.equal(clock.pending, 0);
    dog.arm();
    clock.tick(999);
    assert.equal(fired, 0);
    clock.tick(1);
    assert.equal(fired, 1);
  });
});
