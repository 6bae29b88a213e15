export { createGateway, type AppOptions, type Gateway } from './app.js';
export { GATEWAY_PREFIX, isGatewayPath } from './endpoints.js';
export { startGateway, type RunningGateway, type StartOptions } from './listen.js';
export type { ShutdownReport } from './shutdown.js';
export { describeGateway } from './summary.js';
