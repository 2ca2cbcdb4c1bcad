import { describe, expect, it } from "vitest";
import { startChatServer } from "./chat-server.js";

describe("startChatServer", () => {
  it("fails with one line that says what to do when its port is in use", async () => {
    const first = await startChatServer({ port: 0 });
    try {
      const port = Number(new URL(first.url).port);
      await expect(startChatServer({ port })).rejects.toThrow(`Port ${port} is in use: stop what uses it, or set PORT to another port.`);
    } finally {
      await first.close();
    }
  });
});
