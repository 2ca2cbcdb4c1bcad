export { readProtocolVectors, protocolSpecPath, type ProtocolVector } from "./protocol-vectors.js";
export { normalizeMessage } from "./normalize-message.js";
export { arbitraryHubMessage, arbitraryJsonValue } from "./arbitrary-messages.js";
export { freePort, redisCli, RedisCluster, RedisProcess } from "./redis-process.js";
export { startTcpProxy, type ProxyFault, type TcpProxy } from "./tcp-proxy.js";
export { chromiumArgs, chromiumPath, launchChromium } from "./chromium.js";
export { selfSignedCertificate } from "./certificate.js";
export { protocolProperties, type ProtocolUnderTest } from "./protocol-properties.js";
