import broken from './config/broken.lig';

export { broken };
