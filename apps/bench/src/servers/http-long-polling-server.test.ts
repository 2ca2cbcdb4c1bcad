import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type HttpAnswer, HttpExchange } from "../load/http-exchange.js";
import { systems } from "../systems.js";
import { ForkedServer } from "./forked-server.js";

// The long-polling ceiling as the bench runs it: the built script in its own process, driven
// over real sockets on 127.0.0.1 with the load generator's own HTTP exchange and wire.
describe("node:http long polling (ceiling)", () => {
  let server: ForkedServer;
  let url: URL;
  const exchanges: HttpExchange[] = [];

  beforeAll(async () => {
    server = await ForkedServer.start(systems.httpLongPolling);
    url = server.url;
  });

  afterAll(async () => {
    for (const exchange of exchanges) exchange.close();
    await server?.stop();
  });

  /** A connection's id, and a socket for its polls and one for its POSTs, as a browser would use. */
  async function open(): Promise<{ poll: () => Promise<HttpAnswer>; post: (body: string) => Promise<HttpAnswer> }> {
    const [polls, posts] = [new HttpExchange(url), new HttpExchange(url)];
    exchanges.push(polls, posts);
    const opened = await posts.request("POST", "/open");
    expect(opened.status).toBe(200);
    const path = `/poll?id=${opened.body.toString()}`;
    return { poll: () => polls.request("GET", path), post: (body) => posts.request("POST", path, Buffer.from(body)) };
  }

  /** A request's answer, or "waiting" if it has none yet. */
  const settled = (answer: Promise<HttpAnswer>) => Promise.race([answer.then(({ status, body }) => `${status} ${body}`), tick().then(() => "waiting")]);
  const tick = () => new Promise((resolve) => setTimeout(resolve, 50));

  it("answers each parked GET with the next POST's body, in order, and each connection only with its own", async () => {
    const all = [await open(), await open(), await open()];
    for (let round = 0; round < 3; round++) {
      const polls = all.map((connection) => connection.poll());
      await tick();
      expect(await Promise.all(polls.map(settled))).toEqual(["waiting", "waiting", "waiting"]);
      // POSTed in reverse order: each poll is answered by its own connection's POST, answered at once and empty.
      for (const [index, connection] of [...all.entries()].reverse()) {
        const posted = await connection.post(`c${index}r${round}`);
        expect([posted.status, posted.body.length]).toEqual([200, 0]);
      }
      const answers = await Promise.all(polls);
      expect(answers.map(({ status, body }) => `${status} ${body}`)).toEqual([`200 c0r${round}`, `200 c1r${round}`, `200 c2r${round}`]);
    }
  });

  it("keeps what is POSTed while no GET is parked, and gives it all to the next GET, oldest first", async () => {
    const connection = await open();
    for (const body of ["one,", "two,", "three"]) expect((await connection.post(body)).status).toBe(200);
    const answer = await connection.poll();
    expect(`${answer.status} ${answer.body}`).toBe("200 one,two,three");
    expect(await settled(connection.poll())).toBe("waiting");
  });

  it("answers 404 to a poll of an id it never gave", async () => {
    const polls = new HttpExchange(url);
    exchanges.push(polls);
    expect((await polls.request("GET", "/poll?id=unknown")).status).toBe(404);
  });

  it("echoes the load generator's records on the http-lp wire, every slot answered", async () => {
    // Sent back to back: the first goes out alone, the others join into the next POST.
    expect(await server.echoThroughWire(4)).toEqual({ replies: [0, 1, 2, 3], failures: [] });
  });
});
