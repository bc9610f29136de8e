import { gcviVitestConfig } from '../../vitest.shared.js';

// The browser test builds the site and trains in Chromium: give it room on a loaded machine.
export default gcviVitestConfig({ testTimeout: 180_000 });
