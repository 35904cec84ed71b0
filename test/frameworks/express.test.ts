import { describe } from 'vitest';
import { express4Framework, express5Framework } from './frameworks.js';
import { sessionScenarios } from './scenarios.js';

// The shared scenarios (scenarios.ts) on both Express majors; the same list runs on Koa in koa.test.ts.
describe.each([
  ['express 4', express4Framework],
  ['express 5', express5Framework],
])('%s', (_name, framework) => {
  sessionScenarios(framework);
});
