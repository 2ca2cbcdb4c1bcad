export { arbitraryHubMessage, arbitraryJsonValue } from "./arbitrary-messages.js";
export { selfSignedCertificate } from "./certificate.js";
export { chromiumArgs, chromiumPath, launchChromium } from "./chromium.js";
export { type Nginx, type NginxOptions, type NginxRequest, nginxAvailable, nginxClientTagHeader, nginxPath, nginxSkipReason, startNginx } from "./nginx.js";
export { normalizeMessage } from "./normalize-message.js";
export { type ProtocolUnderTest, protocolProperties } from "./protocol-properties.js";
export { type ProtocolVector, protocolSpecPath, readProtocolVectors } from "./protocol-vectors.js";
export { freePort, RedisCluster, RedisProcess, redisCli } from "./redis-process.js";
export { type ProxyFault, startTcpProxy, type TcpProxy } from "./tcp-proxy.js";
