// Which publishes a send needs: pure, no Redis.
import { MessageType } from "@hubwire/protocol";
import { SerializedMessage } from "@hubwire/server";
import { describe, expect, it } from "vitest";
import { HubChannels } from "./channels.js";
import { decodeEnvelope, EnvelopeKind, type EnvelopeOf } from "./envelope.js";
import { SendFanout } from "./send-fanout.js";

const read = (payload: Uint8Array) => decodeEnvelope(payload) as EnvelopeOf<typeof EnvelopeKind.Invocation>;

function setup() {
  const channels = new HubChannels("app", "chat");
  let counter = 0;
  const fanout = new SendFanout({ channels, serverId: "me", newId: () => `me:${counter++}`, isLocal: (id) => id === "here" });
  const serialized = new SerializedMessage({ type: MessageType.Invocation, target: "say", arguments: ["hi"] });
  return { channels, fanout, serialized };
}

describe("SendFanout", () => {
  it("publishes a send to all once, on the all channel, checked as a send to all", () => {
    const { channels, fanout, serialized } = setup();
    const publishes = fanout.publishesFor({ kind: "all", excludedConnectionIds: ["x"] }, serialized);
    expect(publishes.map(({ channel, toAll }) => [channel, toAll])).toEqual([[channels.all, true]]);
    expect(decodeEnvelope(publishes[0]!.payload)).toMatchObject({ serverId: "me", target: "all", excluded: ["x"] });
    expect(read(publishes[0]!.payload).kind).toBe(EnvelopeKind.Invocation);
    expect([...read(publishes[0]!.payload).encoded.keys()].sort()).toEqual(["json", "messagepack"]);
  });

  it("publishes to each named group, user or remote connection once, with one message id for all", () => {
    const { channels, fanout, serialized } = setup();
    const groups = fanout.publishesFor({ kind: "groups", groups: ["a", "b", "a"] }, serialized);
    expect(groups.map(({ channel }) => channel)).toEqual([channels.group("a"), channels.group("b")]);
    expect(new Set(groups.map(({ payload }) => read(payload).messageId)).size).toBe(1);
    const users = fanout.publishesFor({ kind: "users", userIds: ["ann"] }, serialized);
    expect(users.map(({ channel, toAll }) => [channel, toAll])).toEqual([[channels.user("ann"), false]]);
    const connections = fanout.publishesFor({ kind: "connections", connectionIds: ["here", "there", "there"] }, serialized);
    expect(connections.map(({ channel }) => channel)).toEqual([channels.connection("there")]);
    expect(decodeEnvelope(connections[0]!.payload)).toMatchObject({ target: "connections", names: ["there"] });
  });

  it("publishes nothing for connections all held here", () => {
    const { fanout, serialized } = setup();
    expect(fanout.publishesFor({ kind: "connections", connectionIds: ["here"] }, serialized)).toEqual([]);
  });

  it("encodes only the protocols the other nodes' connections speak, MessagePack when none, all when a node has not said", () => {
    const channels = new HubChannels("app", "chat");
    let remote: ReadonlySet<string> | undefined;
    const fanout = new SendFanout({ channels, serverId: "me", newId: () => "id", isLocal: () => false, remoteProtocols: () => remote });
    const encodings = () => {
      const serialized = new SerializedMessage({ type: MessageType.Invocation, target: "say", arguments: [new Uint8Array([1, 2])] });
      return [...read(fanout.publishesFor({ kind: "all" }, serialized)[0]!.payload).encoded.keys()].sort();
    };
    remote = new Set(["json"]);
    expect(encodings()).toEqual(["json"]);
    remote = new Set(["messagepack"]);
    expect(encodings()).toEqual(["messagepack"]);
    remote = new Set();
    expect(encodings()).toEqual(["messagepack"]);
    remote = undefined;
    expect(encodings()).toEqual(["json", "messagepack"]);
  });

  it("lets a receiver make an encoding it was not sent from MessagePack, bytes intact", async () => {
    const { MessagePackHubProtocol } = await import("@hubwire/protocol-msgpack");
    const { JsonHubProtocol } = await import("@hubwire/protocol");
    const { backplaneProtocols } = await import("./send-fanout.js");
    const msgpack = new MessagePackHubProtocol();
    const sent = new SerializedMessage({ type: MessageType.Invocation, target: "say", arguments: [new Uint8Array([1, 2]), "text"] });
    const received = SerializedMessage.fromEncoded(MessageType.Invocation, new Map([["messagepack", sent.bytesFor(msgpack)]]), backplaneProtocols);
    const json = new JsonHubProtocol();
    expect(Buffer.from(received.bytesFor(json)).toString()).toBe(Buffer.from(sent.bytesFor(json)).toString());
    expect(received.bytesFor(msgpack)).toEqual(sent.bytesFor(msgpack));
  });
});
