import { runObjectiveConformance } from '@gcvi/objectives/test';
import { beforeAll, describe, it } from 'vitest';
import { elbo, forwardKl, iwbo } from '../src/index.js';

const test = { describe, it, beforeAll };
runObjectiveConformance(forwardKl, { test });
runObjectiveConformance(elbo, { test });
runObjectiveConformance(elbo, { test, objectiveOptions: { K: 4, weighting: 'softmax' } });
runObjectiveConformance(iwbo, { test, objectiveOptions: { K: 4 } });
