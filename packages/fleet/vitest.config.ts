import { defineConfig } from 'vitest/config';
import { sharedTestOptions } from '../../vitest.shared.js';

export default defineConfig({
  resolve: { conditions: ['source'] },
  ssr: { resolve: { conditions: ['source'] } },
  // Time limits: one source for the workspace, sized in vitest.shared.ts.
  test: { ...sharedTestOptions },
});
