import { writeBinaryRecord } from "@hubwire/protocol-msgpack";
import { encode } from "@msgpack/msgpack";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { attack } from "./harness/attack.js";
import { HubNode } from "./harness/hub-node.js";
import { type Neighbour, openNeighbour } from "./harness/neighbour.js";
import { eventually, RawHubSocket } from "./harness/raw.js";

const RS = "\u001e";
const record = (value: unknown) => `${JSON.stringify(value)}${RS}`;

const varIntFramed = (message: Uint8Array) => Buffer.from(writeBinaryRecord(message));

/** Waits until the socket is closed by the server; returns the Close message's error, if one came. */
async function closedWith(socket: RawHubSocket): Promise<string | undefined> {
  await eventually(() => socket.closed !== undefined, "the server to close the connection");
  const close = socket.records.find((entry) => entry["type"] === 7);
  return close?.["error"] as string | undefined;
}

describe("hostile hub messages", () => {
  let node: HubNode;
  let neighbour: Neighbour;
  beforeAll(async () => {
    node = await HubNode.start({ hubOptions: { maxMessageBytes: 4_096 } });
    neighbour = await openNeighbour(node.url);
  });
  afterAll(async () => {
    await neighbour.stop();
    await node.stop();
  });

  const closingInputs: Array<[string, string | Buffer]> = [
    ["not JSON", `{not json${RS}`],
    ["a type that is a string", record({ type: "1", target: "echo", arguments: [] })],
    ["arguments that are not an array", record({ type: 1, invocationId: "1", target: "echo", arguments: "x" })],
    ["a target that is a number", record({ type: 1, invocationId: "1", target: 7, arguments: [] })],
    ["__proto__ among a message's own fields", `{"type":1,"invocationId":"1","target":"echo","arguments":[],"__proto__":{"polluted":true}}${RS}`],
    ["limit + 1 bytes in one record", record({ type: 1, invocationId: "1", target: "echo", arguments: ["x".repeat(4_096)] })],
    ["a record with no end, over the limit", `{"type":1,"target":"echo","arguments":["${"y".repeat(5_000)}`],
    ["a completion with both a result and an error", record({ type: 3, invocationId: "x", result: 1, error: "both" })],
  ];
  for (const [name, input] of closingInputs) {
    it(`closes a connection that sends ${name}, with an error`, async () => {
      const socket = await RawHubSocket.open(node.url);
      const error = await attack(node, neighbour, `message: ${name}`, async () => {
        socket.send(input);
        return closedWith(socket);
      });
      expect(error).toMatch(/^Connection closed with an error\./);
    });
  }

  it("fails only the call whose arguments hold __proto__ or nest past the limit, and goes on", async () => {
    const socket = await RawHubSocket.open(node.url);
    const refused = "Failed to invoke 'echo' due to an error on the server.";
    const answers = await attack(node, neighbour, "message: __proto__ and 65 levels in arguments", async () => {
      socket.send(`{"type":1,"invocationId":"p","target":"echo","arguments":[{"__proto__":{"polluted":true}}]}${RS}`);
      socket.send(`{"type":1,"invocationId":"d","target":"echo","arguments":[${"[".repeat(63)}${"]".repeat(63)}]}${RS}`);
      await eventually(() => socket.records.filter((entry) => entry["type"] === 3).length === 2, "both answers");
      return socket.records.filter((entry) => entry["type"] === 3);
    });
    expect(answers).toEqual([
      { type: 3, invocationId: "p", error: refused },
      { type: 3, invocationId: "d", error: refused },
    ]);
    expect((await socket.invoke("echo", ["still open"]))["result"]).toBe("still open");
    socket.close();
  });

  it("closes on limit + 1 bytes sent in chunks, and on a batch whose third record is over (after answering the two before it)", async () => {
    const chunked = await RawHubSocket.open(node.url);
    const big = record({ type: 1, invocationId: "1", target: "echo", arguments: ["z".repeat(4_096)] });
    await attack(node, neighbour, "message: limit + 1 in chunks", async () => {
      for (let at = 0; at < big.length; at += 1_000) chunked.send(big.slice(at, at + 1_000));
      await closedWith(chunked);
    });
    const batched = await RawHubSocket.open(node.url);
    await attack(node, neighbour, "message: limit + 1 third in a batch", async () => {
      batched.send(
        record({ type: 1, invocationId: "a", target: "echo", arguments: [1] }) + record({ type: 1, invocationId: "b", target: "echo", arguments: [2] }) + big,
      );
      await closedWith(batched);
    });
    // As ASP.NET Core's dispatch loop reads them: the calls before the bad record run and are
    // answered, then the connection closes with the error.
    expect(batched.records.filter((entry) => entry["type"] === 3)).toEqual([
      { type: 3, invocationId: "a", result: 1 },
      { type: 3, invocationId: "b", result: 2 },
    ]);
    expect(batched.records.find((entry) => entry["type"] === 7)?.["error"]).toMatch(/^Connection closed with an error\./);
  });

  it("closes 30,000-deep nesting without overflowing the stack", async () => {
    const socket = await RawHubSocket.open(node.url);
    const deep = `${"[".repeat(30_000)}${"]".repeat(30_000)}`;
    await attack(node, neighbour, "message: 30,000-deep nesting (over the limit)", async () => {
      socket.send(`{"type":1,"invocationId":"1","target":"echo","arguments":[${deep}]}${RS}`);
      await closedWith(socket);
    });
  });

  it("answers a 1,500-deep value it can parse but not write back with an error, not a crash", async () => {
    const socket = await RawHubSocket.open(node.url);
    const nested = `${"[".repeat(1_500)}${"]".repeat(1_500)}`;
    const completion = await attack(node, neighbour, "message: deep echo", async () => {
      socket.send(`{"type":1,"invocationId":"deep","target":"echo","arguments":[${nested}]}${RS}`);
      await eventually(() => socket.records.some((entry) => entry["invocationId"] === "deep") || socket.closed !== undefined, "an answer or a close");
      return socket.records.find((entry) => entry["invocationId"] === "deep");
    });
    // Either it fits and comes back whole, or the connection ends cleanly; never a crash.
    if (completion !== undefined) expect(completion["error"] ?? completion["result"]).toBeDefined();
  });

  it("answers unknown and prototype targets with SignalR's error, and goes on", async () => {
    const socket = await RawHubSocket.open(node.url);
    for (const target of ["__proto__", "constructor", "toString", "hasOwnProperty", "nope"]) {
      const completion = await attack(node, neighbour, `message: target ${target}`, () => socket.invoke(target, []));
      expect(completion["error"]).toBe(`Failed to invoke '${target}' due to an error on the server. HubException: Method does not exist.`);
    }
    expect((await socket.invoke("echo", ["fine"]))["result"]).toBe("fine");
    socket.close();
  });

  it("ignores unknown message types, stray completions, stream items for unknown ids and items after completion", async () => {
    const socket = await RawHubSocket.open(node.url);
    await attack(node, neighbour, "message: unknown type, stray completion and stream items", async () => {
      socket.send(record({ type: 99, anything: true }));
      socket.send(record({ type: 3, invocationId: "never-asked", result: 1 }));
      socket.send(record({ type: 2, invocationId: "no-such-stream", item: 1 }));
      socket.send(record({ type: 3, invocationId: "no-such-stream" }));
      socket.send(record({ type: 2, invocationId: "no-such-stream", item: 2 }));
      socket.send(record({ type: 5, invocationId: "no-such-call" }));
    });
    expect((await socket.invoke("echo", ["still open"]))["result"]).toBe("still open");
    socket.close();
  });

  it("answers both calls that reuse one invocation id", async () => {
    const socket = await RawHubSocket.open(node.url);
    await attack(node, neighbour, "message: reused invocation id", async () => {
      socket.send(
        record({ type: 1, invocationId: "same", target: "echo", arguments: [1] }) + record({ type: 1, invocationId: "same", target: "echo", arguments: [2] }),
      );
      await eventually(() => socket.records.filter((entry) => entry["invocationId"] === "same").length === 2, "two completions");
    });
    expect(socket.records.filter((entry) => entry["invocationId"] === "same").map((entry) => entry["result"])).toEqual([1, 2]);
    socket.close();
  });

  it("refuses 10,000 upload stream ids in one call without opening them", async () => {
    // A node whose message limit lets the call through, so the upload cap is what refuses it.
    const roomy = await HubNode.start({ hubOptions: { maxMessageBytes: 256 * 1024 } });
    onTestFinished(() => roomy.stop());
    const socket = await RawHubSocket.open(roomy.url);
    const roomyNeighbour = await openNeighbour(roomy.url);
    onTestFinished(() => roomyNeighbour.stop());
    const completion = await attack(roomy, roomyNeighbour, "message: 10,000 stream ids", () => {
      socket.send(
        record({ type: 1, invocationId: "many", target: "echo", arguments: [], streamIds: Array.from({ length: 10_000 }, (_, index) => String(index)) }),
      );
      return socket
        .until(() => socket.records.some((entry) => entry["invocationId"] === "many"), "the refusal")
        .then(() => socket.records.find((entry) => entry["invocationId"] === "many")!);
    });
    expect(completion["error"]).toMatch(/^Failed to invoke 'echo' due to an error on the server\./);
    expect((await socket.invoke("echo", ["after"]))["result"]).toBe("after");
    socket.close();
  });

  it("closes 1007 on invalid UTF-8 in a text frame", async () => {
    const socket = await RawHubSocket.open(node.url);
    await attack(node, neighbour, "message: invalid UTF-8", async () => {
      socket.socket.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d, 0x1e]), { binary: false });
      await eventually(() => socket.closed !== undefined, "the close");
    });
    expect(socket.closed?.code).toBe(1007);
  });

  it("closes MessagePack connections that send bogus lengths, __proto__ keys or JSON, and JSON ones that send MessagePack; passes unknown ext types on", async () => {
    const inputs: Array<[string, Buffer]> = [
      ["a VarInt over the limit", Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x95])],
      ["an array claiming 2^32-1 items", varIntFramed(Buffer.from([0xdd, 0xff, 0xff, 0xff, 0xff]))],
      ["a map with a __proto__ key in its headers", varIntFramed(encode([1, { ["__proto__"]: "x" }, "1", "echo", []]))],
      // Read as MessagePack, '{' (0x7B) is a length of 123: padded past it, the "record" is complete and refused.
      ["JSON text", Buffer.from(record({ type: 1, invocationId: "1", target: "echo", arguments: ["j".repeat(200)] }))],
    ];
    for (const [name, input] of inputs) {
      const socket = await RawHubSocket.open(node.url, { protocol: "messagepack" });
      await attack(node, neighbour, `messagepack: ${name}`, async () => {
        socket.socket.send(input, { binary: true });
        await eventually(() => socket.closed !== undefined, `the close after ${name}`);
      });
    }
    // An extension type SignalR does not use reaches the method as an opaque ExtData value (as the
    // official codecs read it): no crash, and the connection goes on.
    const extension = await RawHubSocket.open(node.url, { protocol: "messagepack" });
    await attack(node, neighbour, "messagepack: an unknown ext type", async () => {
      extension.socket.send(
        varIntFramed(Buffer.concat([Buffer.from([0x95, 0x01, 0x80, 0xc0, 0xa4]), Buffer.from("echo"), Buffer.from([0x91, 0xd4, 0x42, 0x00])])),
        { binary: true },
      );
      await new Promise((resolve) => setTimeout(resolve, 200));
    });
    expect(extension.closed).toBeUndefined();
    extension.close();
    const json = await RawHubSocket.open(node.url);
    await attack(node, neighbour, "json: MessagePack bytes", async () => {
      // A JSON connection reads up to a 0x1E: MessagePack bytes with one in them are a bad record.
      json.socket.send(Buffer.concat([varIntFramed(encode([1, {}, "1", "echo", [1]])), Buffer.of(0x1e)]), { binary: true });
      await eventually(() => json.closed !== undefined, "the close");
    });
  });

  it("survives 300 random mutations of valid messages, each on its own connection", async () => {
    const valid = [
      record({ type: 1, invocationId: "1", target: "echo", arguments: ["hello", 1, { a: [true, null] }] }),
      record({ type: 4, invocationId: "2", target: "count", arguments: [3] }),
      record({ type: 1, target: "join", arguments: ["g"] }),
      record({ type: 5, invocationId: "2" }),
      record({ type: 6 }),
    ];
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...valid),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }),
        async (message, flips) => {
          const bytes = Buffer.from(message);
          for (const [at, value] of flips) bytes[at % bytes.length] = value;
          const socket = await RawHubSocket.open(node.url);
          await attack(node, neighbour, "mutation", async () => {
            socket.socket.send(bytes, { binary: false });
            // Whatever the bytes mean, the connection ends or answers; the server lives either way.
            await new Promise((resolve) => setTimeout(resolve, 5));
          });
          socket.close();
        },
      ),
      { numRuns: 300 },
    );
    expect(node.isAlive).toBe(true);
  });
});
