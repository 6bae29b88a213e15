import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The recorded nginx headers live in the `shared` folder beside the repository. */
export const FIXTURES_DIR = fileURLToPath(
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
