export { BackplaneError } from "./backplane-error.js";
export { type BackplaneStats } from "./backplane-metrics.js";
export {
  type RedisBackplaneOptions,
  type RedisClient,
  type RedisConnectionOptions,
  type RedisLifetimeManagerOptions,
} from "./backplane-options.js";
export { RedisLifetimeManager, redisLifetimeManager } from "./redis-lifetime-manager.js";
export { HubChannels, escapeChannelPart } from "./channels.js";
