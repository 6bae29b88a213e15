import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { describeSettings } from '../../../src/config/index.js';

const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');

describe('README configuration reference', () => {
  it.each(describeSettings().map((row) => [row.key, row] as const))(
    'documents %s with its environment variable and default',
    (key, row) => {
      const rowStart = new RegExp(`^\\|\\s*\`${key.replace(/\./g, '\\.')}\`\\s*\\|`);
      const line = readme.split('\n').find((text) => rowStart.test(text));
      expect(line, `README has no row for ${key}`).toBeDefined();
      if (row.env) expect(line).toContain(`\`${row.env}\``);
      if (row.default !== undefined) expect(line).toContain(JSON.stringify(row.default));
    },
  );
});
