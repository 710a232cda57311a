// Prints the error table for docs/errors.md from the catalogue (the test checks they agree).
import { ERRORS } from '../src/errors.ts';

for (const [code, entry] of Object.entries(ERRORS))
  console.log(`| \`${code}\` | ${entry.status} | \`${entry.type}\` | ${entry.message} |`);
