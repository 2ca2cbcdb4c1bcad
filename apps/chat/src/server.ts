#!/usr/bin/env node
// `npm start`: the chat sample. PORT (default 3000), HOST (default 127.0.0.1), REDIS_URL to run
// several nodes as one chat (see docs/deploying.md for two nodes behind nginx), TLS_KEY and
// TLS_CERT (PEM files) to serve it over HTTPS with HTTP/2, and ADMIN_TOKEN to guard the admin page
// at /admin (without it, the page is served only on a loopback host). socket.io clients reach the
// same chat hub at the namespace /chat; the page runs on socket.io-client with ?client=socket.io.
import { readFileSync } from "node:fs";
import { chatBanner } from "./chat-banner.js";
import { startChatServer } from "./chat-server.js";

const chat = await startChatServer({
  port: Number(process.env["PORT"] ?? 3000),
  host: process.env["HOST"] ?? "127.0.0.1",
  ...(process.env["REDIS_URL"] ? { redisUrl: process.env["REDIS_URL"] } : {}),
  ...(process.env["ADMIN_TOKEN"] ? { adminToken: process.env["ADMIN_TOKEN"] } : {}),
  ...(process.env["TLS_KEY"] && process.env["TLS_CERT"]
    ? { tls: { key: readFileSync(process.env["TLS_KEY"]), cert: readFileSync(process.env["TLS_CERT"]) } }
    : {}),
}).catch((error: Error) => {
  // One line that says what to do (an unreachable REDIS_URL, a port in use), not a stack.
  console.error(error.message);
  process.exit(1);
});
console.log(chatBanner(chat.url, chat.node.status));
console.log("Open it in two browser tabs; add ?transport=LongPolling or ?transport=ServerSentEvents to see the fallbacks.");
console.log(`The same rooms on socket.io-client: ${chat.url.replace("127.0.0.1", "localhost")}?client=socket.io (socket.io clients: the namespace /chat).`);
console.log(
  process.env["ADMIN_TOKEN"]
    ? `The admin page: ${chat.url.replace("127.0.0.1", "localhost")}admin/login?token=<ADMIN_TOKEN>`
    : `The admin page (open to this machine only; set ADMIN_TOKEN to guard it): ${chat.url.replace("127.0.0.1", "localhost")}admin`,
);
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(
    signal,
    () =>
      void chat.close().then(() => {
        console.log("Hubwire chat stopped.");
        process.exit(0);
      }),
  );
}
