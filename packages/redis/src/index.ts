export { BackplaneError, type BackplaneErrorDetails } from "./backplane-error.js";
export type { BackplaneStats } from "./backplane-metrics.js";
export type {
  RedisBackplaneOptions,
  RedisClient,
  RedisConnectionOptions,
  RedisLifetimeManagerOptions,
} from "./backplane-options.js";
export { escapeChannelPart, HubChannels } from "./channels.js";
export type { DeliveryLoss, LossReason } from "./delivery-loss.js";
export { RedisLifetimeManager, redisLifetimeManager } from "./redis-lifetime-manager.js";
