export { loadConfig, DEFAULT_CONFIG_FILE, type LoadOptions, type LoadResult } from './load.js';
export { configSchema, describeSettings, type Config, type SettingDescription } from './schema.js';
