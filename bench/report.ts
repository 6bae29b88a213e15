// The table printed at the end of a run, and the JSON written beside it.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface Row {
  workload: string;
  target: string;
  unit: 'req/s' | 'msg/s';
  rate: number;
  p50Ms: number;
  p99Ms: number;
  /** rate divided by the direct upstream's, and by the minimal Node proxy's, same workload */
  vsDirect?: number;
  vsMinimal?: number;
  /** CPU used by the processes under test, in percent of one core */
  targetCpuPercent: number;
  /** CPU time the processes under test spent per request or message, in microseconds */
  cpuUsPerOp: number;
  /** how busy the target's core was, in percent, whoever used it */
  targetCorePercent: number;
  /** how busy the load generator's core was, in percent */
  loadCorePercent: number;
  failures: number;
  /** the rate of each round, in the order measured; the row is the median round */
  roundRates?: number[];
}

export interface IdleRow {
  target: string;
  connections: number;
  rssBeforeMb: number;
  rssMb: number;
  kbPerConnection: number;
}

const fixed = (value: number | undefined, digits: number): string =>
  value === undefined || Number.isNaN(value) ? '-' : value.toFixed(digits);
const percent = (ratio: number | undefined): string =>
  ratio === undefined ? '-' : `${Math.round(ratio * 100)}%`;

function table(header: string[], rows: string[][]): string {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: string[]): string =>
    `| ${cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join(' | ')} |`;
  const rule = `|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}

/** How far the slowest and fastest rounds lay from each other, as a share of the median. */
function spread(rates: readonly number[] | undefined): string {
  if (!rates || rates.length < 2) return '-';
  const sorted = [...rates].sort((a, b) => a - b);
  const median = sorted[Math.floor((sorted.length - 1) / 2)] as number;
  const range = (sorted[sorted.length - 1] as number) - (sorted[0] as number);
  return `${rates.length}, ±${Math.round((50 * range) / median)}%`;
}

export function formatRows(rows: readonly Row[]): string {
  return table(
    [
      'workload',
      'target',
      'rate',
      'p50 ms',
      'p99 ms',
      'vs direct',
      'vs minimal',
      'CPU µs/op',
      'target CPU',
      'target core',
      'load core',
      'failed',
      'rounds',
    ],
    rows.map((row) => [
      row.workload,
      row.target,
      `${Math.round(row.rate)} ${row.unit}`,
      fixed(row.p50Ms, 2),
      fixed(row.p99Ms, 2),
      percent(row.vsDirect),
      percent(row.vsMinimal),
      fixed(row.cpuUsPerOp, 0),
      `${Math.round(row.targetCpuPercent)}%`,
      `${Math.round(row.targetCorePercent)}%`,
      `${Math.round(row.loadCorePercent)}%`,
      String(row.failures),
      spread(row.roundRates),
    ]),
  );
}

export function formatIdle(rows: readonly IdleRow[]): string {
  return table(
    ['target', 'idle websockets', 'RSS before', 'RSS with them', 'per connection'],
    rows.map((row) => [
      row.target,
      String(row.connections),
      `${fixed(row.rssBeforeMb, 0)} MB`,
      `${fixed(row.rssMb, 0)} MB`,
      `${fixed(row.kbPerConnection, 1)} KB`,
    ]),
  );
}

/** Writes the run's results as JSON under bench/results/ and returns the file's path. */
export async function writeResults(root: string, results: object): Promise<string> {
  const dir = join(root, 'bench', 'results');
  await mkdir(dir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const path = join(dir, `bench-${stamp}.json`);
  await writeFile(path, `${JSON.stringify(results, null, 2)}\n`);
  return path;
}
