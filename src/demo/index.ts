export { describeDemo, type DemoInstructionsOptions } from './instructions.js';
export {
  startDemoRoomServer,
  type DemoRoomServer,
  type DemoRoomServerOptions,
} from './room-server.js';
