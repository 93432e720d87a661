import { readFileSync, writeFileSync } from 'node:fs';
import { withConfigurationTable } from '../packages/server/src/config/configuration-table.js';

/** `npm run docs:config`: writes the settings table into docs/configuration.md from the declared list. */
const file = new URL('../docs/configuration.md', import.meta.url);
writeFileSync(file, withConfigurationTable(readFileSync(file, 'utf8')));
process.stdout.write('docs/configuration.md: settings table written\n');
