export {
  buildClaims,
  type ClaimSettings,
  type JitsiClaims,
  type JitsiUser,
  type RoomTarget,
} from './claims.js';
export { createSigner, type TokenSigner } from './sign.js';
