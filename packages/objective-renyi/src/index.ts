/**
 * @gcvi/objective-renyi — an example third-party objective plugin for gcvi: the variational Rényi
 * bound. It depends only on `@gcvi/objective-contract`, `@gcvi/objective-utils` and `@tensorflow/tfjs-core`; load it with
 * `loadObjectivePlugins(['@gcvi/objective-renyi'])` from `@gcvi/objectives`.
 */
import type { ObjectivePluginModule } from '@gcvi/objective-contract';
import { renyi } from './renyi.js';

export { type RenyiOptions, renyi, renyiBound } from './renyi.js';

/** The plugin's objectives (what `loadObjectivePlugins` registers). */
export const objectives: ObjectivePluginModule['objectives'] = [renyi];
