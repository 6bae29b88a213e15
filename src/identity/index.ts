export { decodeDn, type DnAttribute } from './dn.js';
export { stripIdentityHeaders } from './headers.js';
export {
  cleanDisplayName,
  createIdentityReader,
  type GuestReason,
  type Identity,
  type IdentityReader,
  type IdentityReading,
} from './identity.js';
