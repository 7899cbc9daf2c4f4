// zxcvbn scoring, run in a worker thread (see password-strength.ts): it takes up to a few
// hundred milliseconds of CPU, which on the main thread would stall every other request.
// Plain JavaScript so that it starts the same under node, tsx, vitest and the CLI, without
// a TypeScript loader in the thread.
import { parentPort } from 'node:worker_threads';
import { ZxcvbnFactory } from '@zxcvbn-ts/core';
import * as common from '@zxcvbn-ts/language-common';
import * as fr from '@zxcvbn-ts/language-fr';

// Built once per thread: the dictionaries are large.
const zxcvbn = new ZxcvbnFactory({
  dictionary: { ...common.dictionary, ...fr.dictionary },
  graphs: common.adjacencyGraphs,
  // Each l33t variant of the password is matched against every dictionary again: with the
  // default 100, variants are most of the cost (a 64-character 'P4$$w0rd…' takes 5 times
  // longer than with 20); the first 20 cover the usual substitutions.
  l33tMaxSubstitutions: 20,
});

parentPort.on('message', ({ id, password, userInputs }) => {
  try {
    parentPort.postMessage({ id, score: zxcvbn.check(password, userInputs).score });
  } catch (err) {
    parentPort.postMessage({ id, error: err instanceof Error ? err.message : String(err) });
  }
});
