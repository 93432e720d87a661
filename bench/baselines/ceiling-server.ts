import { parseArgs } from 'node:util';
import { serveBatches } from './batch-server.js';

/**
 * The ceiling: what node:http on this machine can take in when the server does nothing but read
 * and JSON.parse each body. No store can be faster than this with the same client and payloads.
 */
const { port } = parseArgs({ options: { port: { type: 'string' } } }).values;

const server = serveBatches(Number(port), () => {});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
