/**
 * A load generator process: opens connections in one system's wire format and drives them as
 * the bench asks (echo, broadcast, relay), measuring only on its own side; the bench reads the
 * server's CPU and memory from the server process around each measured window.
 */
import type { BenchConnection } from "./connections.js";
import type { Latencies, LoadJob, LoadReport } from "./load-jobs.js";
import { type Wire, wires } from "./wires.js";

interface Peer {
  connection: BenchConnection;
  onReply: (slot: number) => void;
  onPush: () => void;
}

const ignore = () => {};
let wire: Wire | undefined;
let peers: Peer[] = [];
let failures = 0;
let firstFailure: string | undefined;
let awaitingGo: ((durationMs: number) => void) | undefined;

const report = (message: LoadReport) => process.send?.(message);
const fail = (error: Error) => {
  failures += 1;
  firstFailure ??= error.message;
};

function percentile(sorted: Float64Array, fraction: number): number {
  return sorted.length === 0 ? Number.NaN : (sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))] ?? Number.NaN);
}

/** Latency samples in a growable typed array: no per-sample allocation while measuring. */
class Samples {
  #values = new Float64Array(1 << 16);
  #length = 0;
  add(value: number): void {
    if (this.#length === this.#values.length) {
      const grown = new Float64Array(this.#values.length * 2);
      grown.set(this.#values);
      this.#values = grown;
    }
    this.#values[this.#length++] = value;
  }
  get count(): number {
    return this.#length;
  }
  summary(): Latencies {
    const sorted = this.#values.slice(0, this.#length).sort();
    return { p50Ms: percentile(sorted, 0.5), p99Ms: percentile(sorted, 0.99) };
  }
}

const payloadOf = (bytes: number) => "x".repeat(bytes);

/** What a closed loop checks on each answer: whether to count it, whether to send again. */
interface Loop {
  measuring: boolean;
  running: boolean;
}

/** Waits out the warm-up and the bench's go, counts for the window it names, then stops the loop; the seconds counted. */
async function measuredWindow(loop: Loop, warmupMs: number): Promise<number> {
  const durationMs = await warmThenGo(warmupMs);
  loop.measuring = true;
  const started = performance.now();
  await new Promise((resolve) => setTimeout(resolve, durationMs));
  loop.measuring = false;
  loop.running = false;
  return (performance.now() - started) / 1000;
}
const warmThenGo = (warmupMs: number) =>
  new Promise<number>((resolve) => {
    setTimeout(() => {
      awaitingGo = resolve;
      report({ type: "warm" });
    }, warmupMs);
  });

async function open(job: Extract<LoadJob, { type: "open" }>): Promise<void> {
  wire = wires[job.wire];
  failures = 0;
  firstFailure = undefined;
  const addresses = job.localAddresses ?? [];
  let next = 0;
  let failed = 0;
  const worker = async () => {
    while (next < job.count) {
      const index = next++;
      const peer: Peer = { connection: undefined as unknown as BenchConnection, onReply: ignore, onPush: ignore };
      const localAddress = addresses.length === 0 ? undefined : addresses[index % addresses.length];
      try {
        peer.connection = await wire!.open(
          job.urls[index % job.urls.length]!,
          { reply: (slot) => peer.onReply(slot), push: () => peer.onPush() },
          job.payloadBytes,
          { onFailure: fail, ...(localAddress === undefined ? {} : { localAddress }) },
        );
        peers.push(peer);
      } catch (error) {
        failed += 1;
        firstFailure ??= (error as Error).message;
      }
    }
  };
  await Promise.all(Array.from({ length: job.concurrency }, worker));
  report({ type: "opened", count: peers.length, failed, ...(firstFailure === undefined ? {} : { firstError: firstFailure }) });
}

async function echo(job: Extract<LoadJob, { type: "echo" }>): Promise<void> {
  const frames = Array.from({ length: job.inflight }, (_, slot) => wire!.codec.echo(slot, payloadOf(job.payloadBytes)));
  const samples = new Samples();
  const loop: Loop = { measuring: false, running: true };
  for (const peer of peers) {
    const sentAt = new Float64Array(job.inflight);
    peer.onReply = (slot) => {
      const now = performance.now();
      if (loop.measuring) samples.add(now - sentAt[slot]!);
      if (!loop.running) return;
      sentAt[slot] = now;
      peer.connection.send(frames[slot]!);
    };
    for (let slot = 0; slot < job.inflight; slot++) {
      sentAt[slot] = performance.now();
      peer.connection.send(frames[slot]!);
    }
  }
  const seconds = await measuredWindow(loop, job.warmupMs);
  report({ type: "echo-result", requests: samples.count, seconds, latency: samples.summary(), failures });
}

async function broadcast(job: Extract<LoadJob, { type: "broadcast" }>): Promise<void> {
  const frame = wire!.codec.broadcast(payloadOf(job.payloadBytes));
  const trigger = peers[0]!;
  const round = (messages: number) =>
    new Promise<void>((resolve, reject) => {
      let incomplete = peers.length;
      let sent = 0;
      for (const peer of peers) {
        let received = 0;
        peer.onPush = () => {
          if (peer === trigger && job.paced && sent < messages) {
            sent++;
            trigger.connection.send(frame);
          }
          if (++received === messages && --incomplete === 0) resolve();
        };
      }
      for (const batch = job.paced ? 1 : messages; sent < batch; sent++) trigger.connection.send(frame);
      setTimeout(() => reject(new Error(`Broadcast incomplete after 120 s: ${incomplete} of ${peers.length} connections short.`)), 120_000).unref();
    });
  await round(1);
  await warmThenGo(0);
  const started = performance.now();
  await round(job.messages);
  const seconds = (performance.now() - started) / 1000;
  report({ type: "broadcast-result", deliveries: job.messages * peers.length, seconds, failures });
}

async function relay(job: Extract<LoadJob, { type: "relay" }>): Promise<void> {
  const codec = wire!.codec;
  const joinSlot = 90;
  await Promise.all(
    peers.map(
      (peer, index) =>
        new Promise<void>((resolve) => {
          peer.onReply = (slot) => slot === joinSlot && resolve();
          peer.connection.send(codec.join(joinSlot, `g${index}`));
        }),
    ),
  );
  const payload = payloadOf(job.payloadBytes);
  const samples = new Samples();
  const loop: Loop = { measuring: false, running: true };
  for (let index = 0; index + 1 < peers.length; index += 2) {
    const [origin, echo] = [peers[index]!, peers[index + 1]!];
    const toEcho = codec.relay(`g${index + 1}`, payload);
    const toOrigin = codec.relay(`g${index}`, payload);
    let sentAt = performance.now();
    echo.onPush = () => echo.connection.send(toOrigin);
    origin.onPush = () => {
      const now = performance.now();
      if (loop.measuring) samples.add(now - sentAt);
      if (!loop.running) return;
      sentAt = now;
      origin.connection.send(toEcho);
    };
    origin.connection.send(toEcho);
  }
  const seconds = await measuredWindow(loop, job.warmupMs);
  report({ type: "relay-result", roundTrips: samples.count, seconds, latency: samples.summary(), failures });
}

/** Every connection asks for one echo, all at once; counts those answered within the job's time. */
async function echoEach(job: Extract<LoadJob, { type: "echo-each" }>): Promise<void> {
  const frame = wire!.codec.echo(0, payloadOf(job.payloadBytes));
  let answered = 0;
  const started = performance.now();
  const seconds = await new Promise<number>((resolve) => {
    const end = () => {
      clearTimeout(timer);
      resolve((performance.now() - started) / 1000);
    };
    const timer = setTimeout(end, job.timeoutMs);
    for (const peer of peers) {
      let isAnswered = false;
      peer.onReply = () => {
        if (isAnswered) return;
        isAnswered = true;
        if (++answered === peers.length) end();
      };
      // A connection that has failed takes the frame and drops it: it counts as not answering.
      peer.connection.send(frame);
    }
    if (peers.length === 0) end();
  });
  for (const peer of peers) peer.onReply = ignore;
  report({ type: "echo-each-result", asked: peers.length, answered, seconds });
}

function close(): void {
  for (const peer of peers) peer.connection.close();
  peers = [];
  report({ type: "closed" });
}

// Idle connections of systems that expect client keep-alives (SignalR's 30 s server timeout).
setInterval(() => {
  const ping = wire?.codec.ping;
  if (ping !== undefined) for (const peer of peers) peer.connection.send(ping);
}, 10_000);

process.on("message", (job: LoadJob) => {
  const run = (): Promise<void> | void => {
    switch (job.type) {
      case "open":
        return open(job);
      case "echo":
        return echo(job);
      case "broadcast":
        return broadcast(job);
      case "relay":
        return relay(job);
      case "echo-each":
        return echoEach(job);
      case "go":
        awaitingGo?.(job.durationMs);
        awaitingGo = undefined;
        return;
      case "status":
        report({ type: "status", open: peers.length - failures, failures, ...(firstFailure === undefined ? {} : { firstError: firstFailure }) });
        return;
      case "close":
        return close();
    }
  };
  void Promise.resolve()
    .then(run)
    .catch((error: Error) => report({ type: "error", message: error.stack ?? error.message }));
});
process.on("disconnect", () => process.exit(0));
