/**
 * The contract every lifetime manager must keep, as one suite: run it against the in-memory
 * manager here, and against each backplane in its own package.
 */
import { ErrorCode, type InvocationMessage, JsonHubProtocol, MessageType } from "@hubwire/protocol";
import { afterEach, describe, expect, it } from "vitest";
import type { ClientResultOptions } from "../clients.js";
import type { HubLifetimeManager, ManagedConnection } from "../lifetime-manager.js";
import type { SerializedMessage } from "../serialized-message.js";

const json = new JsonHubProtocol();

/** A connection that records what it is sent. */
export class RecordingConnection implements ManagedConnection {
  readonly received: string[] = [];
  readonly answers = new Map<string, unknown>();
  constructor(
    readonly connectionId: string,
    readonly userId: string | undefined = undefined,
  ) {}
  write(message: SerializedMessage): void {
    const bytes = message.bytesFor(json);
    const [parsed] = json.parse(bytes);
    this.received.push(String((parsed as InvocationMessage).arguments[0]));
  }
  async invokeClient(method: string, args: readonly unknown[], _options: ClientResultOptions): Promise<unknown> {
    if (!this.answers.has(method)) throw new Error("Client didn't provide a result.");
    return [this.answers.get(method), ...args];
  }
}

const say = (text: string): InvocationMessage => ({ type: MessageType.Invocation, target: "say", arguments: [text] });

/**
 * Runs the contract. `create` returns managers that act as one hub: with a backplane, each call
 * may return a manager for another node; `settle` waits until messages between nodes have arrived.
 */
export function lifetimeManagerContract(name: string, create: () => Promise<HubLifetimeManager[]>, settle: () => Promise<void> = async () => undefined): void {
  describe(`${name}: the lifetime manager contract`, () => {
    const created: HubLifetimeManager[] = [];
    afterEach(async () => {
      await Promise.all(created.splice(0).map((manager) => manager.close()));
    });

    async function setup() {
      const managers = await create();
      created.push(...managers);
      const node = (index: number) => managers[index % managers.length]!;
      const connections = [
        new RecordingConnection("c0", "ann"),
        new RecordingConnection("c1", "ann"),
        new RecordingConnection("c2", "ben"),
        new RecordingConnection("c3"),
      ];
      for (const [index, connection] of connections.entries()) await node(index).onConnected(connection);
      await settle();
      return { managers, node, connections };
    }

    async function received(connections: RecordingConnection[], text: string): Promise<number[]> {
      await settle();
      return connections.flatMap((connection, index) => {
        const count = connection.received.filter((entry) => entry === text).length;
        expect(count, `${connection.connectionId} received '${text}' ${count} times`).toBeLessThanOrEqual(1);
        return count === 1 ? [index] : [];
      });
    }

    it("delivers each target exactly once to exactly the right connections", async () => {
      const { node, connections } = await setup();
      await node(0).addToGroup("c0", "red");
      await node(1).addToGroup("c2", "red");
      await node(0).addToGroup("c3", "blue");
      const cases: Array<[Parameters<HubLifetimeManager["send"]>[0], number[]]> = [
        [{ kind: "all" }, [0, 1, 2, 3]],
        [{ kind: "all", excludedConnectionIds: ["c1", "c3"] }, [0, 2]],
        [{ kind: "connections", connectionIds: ["c2", "c3", "c2"] }, [2, 3]],
        [{ kind: "groups", groups: ["red"] }, [0, 2]],
        [{ kind: "groups", groups: ["red", "blue", "red"] }, [0, 2, 3]],
        [{ kind: "groups", groups: ["red"], excludedConnectionIds: ["c0"] }, [2]],
        [{ kind: "users", userIds: ["ann"] }, [0, 1]],
        [{ kind: "users", userIds: ["ann", "ben", "nobody"] }, [0, 1, 2]],
        [{ kind: "groups", groups: ["empty"] }, []],
      ];
      for (const [index, [target, expected]] of cases.entries()) {
        const text = `m${index}`;
        await node(index).send(target, say(text));
        expect(await received(connections, text), JSON.stringify(target)).toEqual(expected);
      }
    });

    it("removes from groups, and forgets every group of a disconnected connection", async () => {
      const { node, connections } = await setup();
      await node(0).addToGroup("c0", "red");
      await node(0).addToGroup("c1", "red");
      await node(1).removeFromGroup("c0", "red");
      await node(1).send({ kind: "groups", groups: ["red"] }, say("after-remove"));
      expect(await received(connections, "after-remove")).toEqual([1]);
      await node(1).onDisconnected(connections[1]!);
      await node(0).send({ kind: "groups", groups: ["red"] }, say("after-disconnect"));
      await node(0).send({ kind: "users", userIds: ["ann"] }, say("user-after-disconnect"));
      expect(await received(connections, "after-disconnect")).toEqual([]);
      expect(await received(connections, "user-after-disconnect")).toEqual([0]);
    });

    it("treats *, ?, [ and : in group and user names literally", async () => {
      const { node, connections } = await setup();
      await node(0).addToGroup("c0", "room:*");
      await node(1).addToGroup("c2", "room:a");
      await node(0).addToGroup("c3", "[x]?");
      await node(1).send({ kind: "groups", groups: ["room:*"] }, say("star"));
      await node(0).send({ kind: "groups", groups: ["room:?"] }, say("question"));
      await node(1).send({ kind: "groups", groups: ["[x]?"] }, say("bracket"));
      expect(await received(connections, "star")).toEqual([0]);
      expect(await received(connections, "question")).toEqual([]);
      expect(await received(connections, "bracket")).toEqual([3]);
    });

    it("rejects group changes and client results for an unknown connection", async () => {
      const { node } = await setup();
      const unknown = { name: "UnknownConnectionError", code: ErrorCode.UnknownConnection, message: expect.stringMatching(/'missing'/) };
      await expect(node(0).addToGroup("missing", "red")).rejects.toMatchObject(unknown);
      await expect(node(0).removeFromGroup("missing", "red")).rejects.toMatchObject(unknown);
      await expect(node(0).invokeConnection("missing", "ask", [], {})).rejects.toMatchObject(unknown);
    });

    it("awaits a client result from the connection that holds it", async () => {
      const { node, connections } = await setup();
      connections[2]!.answers.set("ask", "yes");
      expect(await node(0).invokeConnection("c2", "ask", [1], {})).toEqual(["yes", 1]);
      await expect(node(1).invokeConnection("c1", "ask", [], {})).rejects.toThrow("Client didn't provide a result.");
    });
  });
}
