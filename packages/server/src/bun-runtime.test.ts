import { startOnBun } from "./test-helpers/bun-server.js";
import { officialClientSuite } from "./test-helpers/official-client-suite.js";

// The same suite as hub-server.test.ts, against the same hub served by Bun.serve (src/bun).
officialClientSuite("on Bun", () => startOnBun());
