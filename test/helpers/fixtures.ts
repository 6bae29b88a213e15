import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * Request headers recorded from a real nginx, with the truth table in their README. The copy
 * in the repository is what the tests read, so that a clone tests alone; the recorded set it
 * came from, in `shared/` beside the repository where there is one, is compared with it in
 * test/unit/identity/fixtures-copy.test.ts.
 */
export const FIXTURES_DIR = fileURLToPath(new URL('../fixtures/nginx-headers/', import.meta.url));

/** The recorded set the copy came from. */
export const RECORDED_FIXTURES_DIR = fileURLToPath(
  new URL('../../../shared/fixtures/nginx-headers/', import.meta.url),
);

export interface NginxFixture {
  name: string;
  nginx: string;
  request_path: string;
  headers: Record<string, string>;
}

export function readFixture(name: string): NginxFixture {
  const text = readFileSync(`${FIXTURES_DIR}${name}.json`, 'utf8');
  return { name, ...(JSON.parse(text) as Omit<NginxFixture, 'name'>) };
}

export function allFixtures(): NginxFixture[] {
  return readdirSync(FIXTURES_DIR)
    .filter((file) => file.endsWith('.json'))
    .sort()
    .map((file) => readFixture(file.replace(/\.json$/, '')));
}
