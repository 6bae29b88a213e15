export { createUpstreamProxy, type UpstreamOptions, type UpstreamProxy } from './upstream.js';
