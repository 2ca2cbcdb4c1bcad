import { describe, expect, it } from "vitest";
// @ts-expect-error: a plain .mjs script shared with the size report, without type declarations
import { measure } from "../scripts/bundle-size.mjs";

type Measured = { minBytes: number; gzipBytes: number; code: string };

describe("the browser bundle", () => {
  it("keeps the JSON client within 7 KB, with no MessagePack codec, no replay buffer and no Node import", async () => {
    const json = (await measure('export { HubConnection } from "@hubwire/client";')) as Measured;
    expect(json.gzipBytes).toBeLessThanOrEqual(7 * 1024);
    expect(json.code).not.toMatch(/msgpack|ExtensionCodec/i);
    expect(json.code).not.toMatch(/Sequence ID greater/);
    expect(json.code).not.toMatch(/from\s*"node:|require\(/);
  });

  it("loads stateful reconnect only from its own entry point", async () => {
    const withReplay = (await measure(
      'export { HubConnection } from "@hubwire/client"; export { statefulReconnect } from "@hubwire/client/stateful-reconnect";',
    )) as Measured;
    expect(withReplay.code).toMatch(/Sequence ID greater/);
  });

  it("loads MessagePack only from its own entry point", async () => {
    const json = (await measure('export { HubConnection } from "@hubwire/client";')) as Measured;
    const both = (await measure(
      'export { HubConnection } from "@hubwire/client"; export { MessagePackHubProtocol } from "@hubwire/client/msgpack";',
    )) as Measured;
    expect(both.gzipBytes - json.gzipBytes).toBeGreaterThan(2 * 1024);
    expect(both.code).toMatch(/messagepack/);
  });
});
