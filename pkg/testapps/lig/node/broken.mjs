import broken from './config/broken.lig';

console.log(JSON.stringify(broken));
