// local's allocator: the agent's free cpus/mem, fits/take/give back, fixed-point scalars as Mesos
// keeps them (three decimals), and the checks made before a run starts.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { addResources, Allocator, defaultAgentMemMb, describeResources, formatScalar, neverFits, tasksAtOnce } from '../../src/cli/local/allocator.js';

describe('local allocator', () => {
  it('takes what fits, refuses what does not, and frees on give back', () => {
    const a = new Allocator({ cpus: 2, mem: 1000 });
    const task = { cpus: 1, mem: 300 };
    assert.equal(a.fits(task), true);
    a.take(task);
    a.take(task);
    assert.deepEqual(a.free, { cpus: 0, mem: 400 });
    assert.equal(a.fits(task), false, 'no cpu left');
    assert.throws(() => a.take(task), RangeError);
    a.give(task);
    assert.deepEqual(a.free, { cpus: 1, mem: 700 });
    assert.equal(a.fits(task), true);
  });

  it('mem binds as well as cpus', () => {
    const a = new Allocator({ cpus: 8, mem: 250 });
    a.take({ cpus: 1, mem: 200 });
    assert.equal(a.fits({ cpus: 1, mem: 51 }), false);
    assert.equal(a.fits({ cpus: 1, mem: 50 }), true);
  });

  it('fractional cpus add up exactly: ten tasks of 0.1 fill one cpu, and all come back', () => {
    const a = new Allocator({ cpus: 1, mem: 0 });
    const tenth = { cpus: 0.1, mem: 0 };
    for (let i = 0; i < 10; i++) {
      assert.equal(a.fits(tenth), true, `task ${i + 1} of 10 fits (floating point alone would miss the tenth)`);
      a.take(tenth);
    }
    assert.equal(a.fits(tenth), false);
    assert.deepEqual(a.free, { cpus: 0, mem: 0 });
    for (let i = 0; i < 10; i++) a.give(tenth);
    assert.deepEqual(a.free, { cpus: 1, mem: 0 });
    // 0.1 + 0.2 is 0.30000000000000004 in floating point: it still fits 0.3.
    const b = new Allocator({ cpus: 0.3, mem: 0 });
    b.take({ cpus: 0.1, mem: 0 });
    assert.equal(b.fits({ cpus: 0.2, mem: 0 }), true);
    assert.deepEqual(addResources({ cpus: 0.1, mem: 0.1 }, { cpus: 0.2, mem: 0.2 }), { cpus: 0.3, mem: 0.3 });
  });

  it('giving back more than was taken is a bug, not more resources', () => {
    const a = new Allocator({ cpus: 1, mem: 100 });
    assert.throws(() => a.give({ cpus: 0.001, mem: 0 }), RangeError);
    assert.deepEqual(a.free, { cpus: 1, mem: 100 });
  });

  it('a task that could never fit beside the executor is named with what it lacks', () => {
    const agent = { cpus: 2, mem: 1024 };
    const executor = { cpus: 0.1, mem: 128 };
    assert.equal(neverFits(agent, executor, { cpus: 1, mem: 128 }), undefined);
    assert.equal(neverFits(agent, executor, { cpus: 1.9, mem: 896 }), undefined, 'exactly the rest fits');
    assert.match(neverFits(agent, executor, { cpus: 2, mem: 128 }) ?? '', /needs 2\.1 cpus$/);
    assert.match(neverFits(agent, executor, { cpus: 3, mem: 2000 }) ?? '', /needs 3\.1 cpus and 2128 MB of mem$/);
  });

  it('counts the tasks at once beside the executor', () => {
    assert.equal(tasksAtOnce({ cpus: 2, mem: 10_000 }, { cpus: 0.1, mem: 128 }, { cpus: 1, mem: 128 }), 1);
    assert.equal(tasksAtOnce({ cpus: 2.1, mem: 10_000 }, { cpus: 0.1, mem: 128 }, { cpus: 1, mem: 128 }), 2);
    assert.equal(tasksAtOnce({ cpus: 1, mem: 10_000 }, { cpus: 0.1, mem: 0 }, { cpus: 0.3, mem: 0 }), 3);
    assert.equal(tasksAtOnce({ cpus: 16, mem: 400 }, { cpus: 0.1, mem: 100 }, { cpus: 1, mem: 100 }), 3, 'mem binds');
    assert.equal(tasksAtOnce({ cpus: 1, mem: 100 }, { cpus: 0.1, mem: 0 }, { cpus: 1, mem: 0 }), 0);
  });

  it('the default agent mem leaves 1 GB to the system (half below 2 GB), in whole MB, as a Mesos agent', () => {
    const gb = 1024 ** 3;
    assert.equal(defaultAgentMemMb(8 * gb), 7 * 1024);
    assert.equal(defaultAgentMemMb(2 * gb), 1024);
    assert.equal(defaultAgentMemMb(gb), 512);
    assert.equal(defaultAgentMemMb(8 * gb + 1024 ** 2 / 2), 7 * 1024, 'truncated to a whole MB');
  });

  it('prints scalars with at most three decimals', () => {
    assert.equal(formatScalar(0.1 + 0.2), '0.3');
    assert.equal(formatScalar(1), '1');
    assert.equal(describeResources({ cpus: 0.25, mem: 128 }), '0.25 cpus, 128 MB');
    assert.equal(describeResources({ cpus: 1, mem: 128 }), '1 cpu, 128 MB');
  });
});
