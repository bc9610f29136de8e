import { runObjectiveConformance } from '@gcvi/objectives/test';
import { elbo, forwardKl, iwbo } from '../src/index.js';

runObjectiveConformance(forwardKl);
runObjectiveConformance(elbo);
runObjectiveConformance(elbo, { objectiveOptions: { K: 4, weighting: 'softmax' } });
runObjectiveConformance(iwbo, { objectiveOptions: { K: 4 } });
