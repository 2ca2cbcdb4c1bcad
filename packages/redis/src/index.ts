export { BackplaneError } from "./backplane-error.js";
export type { BackplaneStats } from "./backplane-metrics.js";
export type {
  RedisBackplaneOptions,
  RedisClient,
  RedisConnectionOptions,
  RedisLifetimeManagerOptions,
} from "./backplane-options.js";
export { escapeChannelPart, HubChannels } from "./channels.js";
export { RedisLifetimeManager, redisLifetimeManager } from "./redis-lifetime-manager.js";
