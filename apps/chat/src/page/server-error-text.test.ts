import { describe, expect, it } from "vitest";
import { serverErrorText } from "./server-error-text.js";

describe("serverErrorText", () => {
  it("shows only the hub's own words from an invocation's error", () => {
    const error = new Error("An unexpected error occurred invoking 'send' on the server. HubException: Messages are limited to 500 characters.");
    expect(serverErrorText(error)).toBe("Messages are limited to 500 characters.");
  });

  it("shows only the hub's own words from a stream's error", () => {
    const error = new Error("An error occurred on the server while streaming results. HubException: Redis did not answer within 2 s; try again.");
    expect(serverErrorText(error)).toBe("Redis did not answer within 2 s; try again.");
  });

  it("keeps the hub's words whole when they mention a HubException themselves", () => {
    const error = new Error("An unexpected error occurred invoking 'join' on the server. HubException: a HubException: inside");
    expect(serverErrorText(error)).toBe("a HubException: inside");
  });

  it("shows other errors as they are: SignalR's generic text, a transport's failure", () => {
    expect(serverErrorText(new Error("An unexpected error occurred invoking 'join' on the server."))).toBe(
      "An unexpected error occurred invoking 'join' on the server.",
    );
    expect(serverErrorText(new Error("WebSockets: the connection was refused"))).toBe("WebSockets: the connection was refused");
    expect(serverErrorText("not an Error")).toBe("not an Error");
  });
});
