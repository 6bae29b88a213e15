export { explainToken, type Check, type Explanation, type Verdict } from './explain.js';
export { mintToken, type MintRequest, type MintResult } from './mint.js';
export { splitRoomUrl, tokenInUrl, type RoomUrl } from './url.js';
