export {
  BackplaneError,
  RedisLifetimeManager,
  redisLifetimeManager,
  type BackplaneStats,
  type RedisBackplaneOptions,
  type RedisClient,
  type RedisConnectionOptions,
  type RedisLifetimeManagerOptions,
} from "./redis-lifetime-manager.js";
export { HubChannels, escapeChannelPart } from "./channels.js";
