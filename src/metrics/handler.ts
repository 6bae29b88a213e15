import type { ServerResponse } from 'node:http';
import type { GatewayMetrics } from './metrics.js';

/** Writes the Prometheus text exposition of `metrics`; a failed collection is a plain 500. */
export async function writeMetrics(metrics: GatewayMetrics, res: ServerResponse): Promise<void> {
  let body: string;
  try {
    body = await metrics.registry.metrics();
  } catch {
    res.writeHead(500, {
      'Content-Type': 'text/plain; charset=utf-8',
      'Cache-Control': 'no-store',
    });
    res.end('metrics could not be collected\n');
    return;
  }
  res.writeHead(200, {
    'Content-Type': metrics.registry.contentType,
    'Content-Length': String(Buffer.byteLength(body)),
    'Cache-Control': 'no-store',
  });
  res.end(body);
}
