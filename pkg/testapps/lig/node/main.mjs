// `node --import ligature/register main.mjs`: .lig files import in plain Node.
import config, { name, ports } from './config/app.lig';
import summary, { total } from './config/summary.lig';
import * as portsModule from './config/net/ports.lig';
import { regions } from 'ligature-test-defaults/defaults.lig';

console.log(JSON.stringify({ config, name, ports, summary, total, regions, portsNames: Object.keys(portsModule).sort() }));
