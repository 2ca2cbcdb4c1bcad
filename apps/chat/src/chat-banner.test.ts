import { describe, expect, it } from "vitest";
import { chatBanner } from "./chat-banner.js";

describe("chatBanner", () => {
  it("says the rooms are in memory for a node on its own", () => {
    expect(chatBanner("http://127.0.0.1:3000/", { nodeId: "local", rooms: "memory" })).toBe("Hubwire chat is running at http://localhost:3000/ (in memory).");
  });

  it("says the rooms are shared over Redis, and names the node, for a node whose Redis answered", () => {
    expect(chatBanner("http://127.0.0.1:3001/", { nodeId: "host_1a2b", rooms: "redis" })).toBe(
      "Hubwire chat is running at http://localhost:3001/ (node host_1a2b, shared over Redis).",
    );
  });

  it("names the runtime when given one", () => {
    expect(chatBanner("http://127.0.0.1:3002/", { nodeId: "local", rooms: "memory" }, "Bun")).toBe(
      "Hubwire chat is running on Bun at http://localhost:3002/ (in memory).",
    );
  });
});
