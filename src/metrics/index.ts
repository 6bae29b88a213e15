export { writeMetrics } from './handler.js';
export { createMetrics, type GatewayMetrics, type ProxiedRoute } from './metrics.js';
