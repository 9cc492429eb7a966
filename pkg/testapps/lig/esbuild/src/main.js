import config, { name, ports, replicas, tier, limits } from './config/app.lig';
import summary, * as summaryModule from './config/summary.lig';
import defaults from 'ligature-test-defaults/defaults.lig';

export const report = {
  config, name, ports, replicas, tier, limits, summary, summaryNames: Object.keys(summaryModule).sort(), defaults,
};
