// `node --import ligature/register main.mjs`: .lig files import in plain Node.
import config, { name, ports } from './config/app.lig';
import summary, { total } from './config/summary.lig';
import * as portsModule from './config/net/ports.lig';
import { regions } from 'ligature-test-defaults/defaults.lig';
import names, * as namesModule from './config/names.lig';
import { scale } from './config/partial.lig';

const special = {
  keys: Object.keys(names),
  ownProto: Object.hasOwn(names, '__proto__') && Object.getPrototypeOf(names) === Object.prototype,
  exports: Object.keys(namesModule).sort(),
  document: namesModule.document,
};
console.log(JSON.stringify({ config, name, ports, summary, total, regions, portsNames: Object.keys(portsModule).sort(), special, scale }));
