// What the workspace's tests share. Everything here also runs in a browser page (the demo imports the fixed
// input); the Chromium helper, which needs Node, is the separate entry `@mobilenet/test-support/chromium`.
export { maxAbs, maxAbsDiff } from './compare.js';
export { fixedInput } from './input.js';
export { skipUnless } from './skip.js';
