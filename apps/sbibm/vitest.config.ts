import { gcviVitestConfig } from '../../vitest.shared.js';

export default gcviVitestConfig();
