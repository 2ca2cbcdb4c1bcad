import { describe, expect, it } from "vitest";
import type { LogLevel } from "./logger.js";
import { ReattachLinks } from "./reattach-links.js";

const connection = { connectionToken: "secret-token", connectionId: "public-id" };

function links() {
  const lines: Array<{ level: LogLevel; message: string; fields?: Readonly<Record<string, unknown>> }> = [];
  return { links: new ReattachLinks({ log: (level, message, fields) => lines.push({ level, message, fields }) }), lines };
}

describe("ReattachLinks", () => {
  it("reads the link a request names, 0 for none or anything but a positive integer", () => {
    expect([
      ReattachLinks.of("id=t&link=3"),
      ReattachLinks.of("id=t"),
      ReattachLinks.of("link=-1"),
      ReattachLinks.of("link=1.5"),
      ReattachLinks.of("link=x"),
    ]).toEqual([3, 0, 0, 0, 0]);
  });

  it("re-attaches on a poll or an event stream of a newer link, refuses sends of it until then, and any request of an older one", () => {
    const { links: rule } = links();
    expect(rule.judge(connection, 0, "send")).toBe("current");
    expect(rule.judge(connection, 1, "poll")).toBe("reattach");
    expect(rule.judge(connection, 1, "events")).toBe("reattach");
    expect(rule.judge(connection, 1, "send")).toEqual({ status: 409, message: "Re-attach the connection on this link before sending on it." });
    // The client ends it from the link it is re-attaching on.
    expect(rule.judge(connection, 1, "delete")).toBe("current");
    rule.attached(connection, 1);
    expect(rule.judge(connection, 1, "send")).toBe("current");
    for (const kind of ["poll", "send", "delete"] as const) {
      expect(rule.judge(connection, 0, kind)).toEqual({
        status: 409,
        message: "This request was sent on a link of the connection that a re-attach has replaced.",
      });
    }
  });

  it("refuses a poll of the current link once the transport is lost; a newer link re-attaches", () => {
    const { links: rule } = links();
    rule.attached(connection, 2);
    expect(rule.lostTransport(connection, 2)).toEqual({ status: 409, message: "The connection lost its transport: re-attach it on a new link." });
    expect(rule.lostTransport(connection, 1)?.status).toBe(409);
    expect(rule.lostTransport(connection, 3)).toBeUndefined();
    rule.forget(connection);
    expect(rule.lostTransport(connection, 1)).toBeUndefined();
  });

  it("logs every refusal at debug with the connection's id and both links, never its token", () => {
    const { links: rule, lines } = links();
    rule.attached(connection, 2);
    rule.judge(connection, 1, "send");
    expect(lines).toEqual([
      {
        level: "debug",
        message: "A request was refused by its re-attach link.",
        fields: {
          connectionId: "public-id",
          link: 1,
          currentLink: 2,
          reason: "This request was sent on a link of the connection that a re-attach has replaced.",
        },
      },
    ]);
    expect(JSON.stringify(lines)).not.toContain("secret-token");
  });
});
