export { createGateway, type AppOptions, type Gateway } from './app.js';
export { startGateway, type RunningGateway, type StartOptions } from './listen.js';
