export { decodeDn, type DnAttribute } from './dn.js';
export { stripIdentityHeaders } from './headers.js';
export {
  createIdentityReader,
  type GuestReason,
  type Identity,
  type IdentityReader,
  type IdentityReading,
} from './identity.js';
