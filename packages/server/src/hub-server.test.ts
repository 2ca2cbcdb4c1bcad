import { officialClientSuite, type SuiteServer, suiteHubOptions } from "./test-helpers/official-client-suite.js";
import { recorded, testHub } from "./test-helpers/test-hub.js";
import { startServer } from "./test-helpers/test-server.js";

async function startOnNode(): Promise<SuiteServer> {
  const server = await startServer({ hubs: { "/hub": testHub }, ...suiteHubOptions });
  return {
    origin: server.origin,
    connectionCount: async () => server.hubs.connectionCount("/hub"),
    sendToUser: (userId, text) => server.hubs.hubContext(testHub).clients.user(userId).receive(text),
    recorded: async () => recorded,
    close: () => server.close(),
  };
}

officialClientSuite("on Node", startOnNode);
