export {
  buildClaims,
  type ClaimSettings,
  type JitsiClaims,
  type JitsiUser,
  type RoomTarget,
} from './claims.js';
export { createKeyServer, type KeyServer, type KeyServerAnswer } from './key-server.js';
export {
  loadKeys,
  TOKEN_ALGORITHMS,
  type KeySet,
  type KeySettings,
  type PublishedKey,
  type TokenAlgorithm,
} from './keys.js';
export {
  checkPresentedToken,
  type PresentedCheck,
  type PresentedToken,
  type UnusableReason,
} from './presented.js';
export { createSigner, type TokenReading, type TokenSigner } from './sign.js';
