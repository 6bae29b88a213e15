// Prints the README's configuration table from the schema, so the two cannot drift apart.
import { describeSettings } from '../src/config/index.js';

const cell = (text: string): string => text.replace(/\|/g, '\\|');

console.log('| key | environment | default | meaning |');
console.log('|---|---|---|---|');
for (const row of describeSettings()) {
  const env = row.env ? `\`${row.env}\`` : '';
  const fallback = row.default === undefined ? '(none)' : `\`${JSON.stringify(row.default)}\``;
  console.log(`| \`${row.key}\` | ${env} | ${cell(fallback)} | ${cell(row.description)} |`);
}
