export {
  createUpstreamProxy,
  isLongPoll,
  type UpstreamOptions,
  type UpstreamProxy,
} from './upstream.js';
