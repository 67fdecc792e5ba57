// The file piscina loads in each worker thread: CommonJS on purpose. piscina require()s its
// worker file first, and on Node 20 require() of an ES module is synchronous instantiation
// inside the thread; a thread terminated in the middle of it (a pool closed or a worker replaced
// while it starts) aborts the WHOLE process ("FATAL ERROR: v8::Module::IsGraphAsync must be used
// on an instantiated module", seen here in the test suite). Requiring this CommonJS file never
// instantiates an ES module; the real entry (worker.js) is loaded with import(), which a
// terminated thread abandons cleanly.
import type { WorkerRequest, WorkerResponse } from './protocol.js';

type Handle = (request: WorkerRequest) => Promise<WorkerResponse>;
let loaded: Promise<Handle> | undefined;

function entry(request: WorkerRequest): Promise<WorkerResponse> {
  loaded ??= import('./worker.js').then((module: { default: Handle }) => module.default);
  return loaded.then((handle) => handle(request));
}

export = entry;
