import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FIXTURES_DIR, RECORDED_FIXTURES_DIR } from '../../helpers/fixtures.js';

// The copy must stay the recorded set, byte for byte: the truth table in its README is the
// reference for the identity reader. Where the recorded set is not beside the repository (a
// clone on its own), there is nothing to compare with, and the test says so in its name.
const recorded = existsSync(RECORDED_FIXTURES_DIR);

describe.runIf(recorded)(
  'the copy of the recorded nginx headers (shared/ is beside the repository)',
  () => {
    it('holds the same files with the same bytes', () => {
      const files = readdirSync(RECORDED_FIXTURES_DIR).sort();

      expect(readdirSync(FIXTURES_DIR).sort()).toEqual(files);
      for (const file of files) {
        expect(readFileSync(`${FIXTURES_DIR}${file}`, 'utf8'), file).toBe(
          readFileSync(`${RECORDED_FIXTURES_DIR}${file}`, 'utf8'),
        );
      }
    });
  },
);

describe('the copy of the recorded nginx headers', () => {
  it('has a README with the truth table and at least the eight recorded cases', () => {
    const files = readdirSync(FIXTURES_DIR).filter((file) => file.endsWith('.json'));

    expect(files.length).toBeGreaterThanOrEqual(8);
    expect(readFileSync(`${FIXTURES_DIR}README.md`, 'utf8')).toContain(
      'What a correct reader must get',
    );
  });
});
