export { createBackstop, type Backstop } from './backstop.js';
export { decide, type Decision, type DecisionSettings, type NavigationFacts } from './decide.js';
export { locationWithToken, tokenParameters } from './location.js';
export { decodeMarker, encodeMarker, markerSubject, type Marker } from './marker.js';
export {
  createNavigationHandler,
  type DecisionObserver,
  type DecisionRecord,
  type InjectDependencies,
  type NavigationHandler,
} from './navigation.js';
export {
  isPageNavigation,
  readRoomNavigation,
  readRoomPath,
  roomNode,
  type RoomNavigation,
} from './room-page.js';
export { createTokenEndpoint } from './token-endpoint.js';
