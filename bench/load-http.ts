// HTTP load with autocannon, recording every response's latency at full resolution.
import autocannon from 'autocannon';
import { LatencyRecorder } from './stats.js';

export interface RequestShape {
  path: string;
  headers?: Record<string, string>;
}

export interface HttpLoad {
  /** `http://127.0.0.1:<port>` */
  origin: string;
  connections: number;
  seconds: number;
  method?: 'GET' | 'POST';
  body?: string;
  /** The request, when all are alike. */
  shape: RequestShape;
  /** Gives each request its own path and headers instead. */
  vary?: () => RequestShape;
  expectedStatus: number;
  /** Requests per second over all connections; left out, as fast as the target answers. */
  rate?: number;
}

export interface LoadResult {
  /** Answers with the expected status per second. */
  rate: number;
  p50: number;
  p99: number;
  count: number;
  /** Answers with another status, connection errors and timeouts. */
  failures: number;
  seconds: number;
}

export function runHttpLoad(load: HttpLoad): Promise<LoadResult> {
  const latencies = new LatencyRecorder();
  let failures = 0;
  const { shape, vary } = load;

  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: `${load.origin}${shape.path}`,
        connections: load.connections,
        duration: load.seconds,
        method: load.method ?? 'GET',
        body: load.body,
        headers: shape.headers,
        overallRate: load.rate,
        timeout: 30,
        requests: vary ? [{ setupRequest: (request) => ({ ...request, ...vary() }) }] : undefined,
      },
      (error: unknown, result) => {
        if (error) {
          reject(error instanceof Error ? error : new Error(String(error)));
          return;
        }
        const { p50, p99 } = latencies.percentiles();
        failures += result.errors;
        resolve({
          rate: latencies.count / result.duration,
          p50,
          p99,
          count: latencies.count,
          failures,
          seconds: result.duration,
        });
      },
    );
    instance.on('response', (_client, status, _bytes, milliseconds) => {
      if (status === load.expectedStatus) latencies.record(milliseconds);
      else failures += 1;
    });
  });
}
