/** How big and how long each scenario runs: the sizes, or a smoke run that only proves the harness. */
export interface Settings {
  readonly quick: boolean;
  /** Runs per figure; each figure is their median, with min and max. */
  readonly runs: number;
  readonly echo: {
    readonly connections: number;
    readonly warmupMs: number;
    readonly durationMs: number;
    readonly cases: ReadonlyArray<{ readonly inflight: number; readonly payloadBytes: number }>;
  };
  readonly broadcast: { readonly clients: number; readonly messages: number; readonly payloadBytes: number };
  readonly idle: { readonly connections: number };
  readonly relay: { readonly pairs: number; readonly payloadBytes: number; readonly warmupMs: number; readonly durationMs: number };
  readonly longPolling: {
    readonly connections: number;
    /** One table per payload size, each measuring every system in the same interleaved runs. */
    readonly payloads: ReadonlyArray<{ readonly payloadBytes: number }>;
    readonly warmupMs: number;
    readonly durationMs: number;
  };
  readonly maxConnections: { readonly target: number; readonly sourceAddresses: number };
  readonly maxConnectionsCluster: {
    /** Connections to open, spread over as many server workers and load processes as `perProcess` asks. */
    readonly connections: number;
    /** The most connections one process (a server worker, a load process) is given. */
    readonly perProcess: number;
    /** Source addresses of each load process, its own (each gives its own port range). */
    readonly sourceAddressesPerProcess: number;
    /** How long the connections stay idle before they are counted (past a keep-alive round). */
    readonly idleMs: number;
    /** The goal: at least this many held and answering. */
    readonly goal: number;
  };
}

export const fullSettings: Settings = {
  quick: false,
  runs: 3,
  echo: {
    connections: 64,
    warmupMs: 1_000,
    durationMs: 3_000,
    cases: [
      { inflight: 1, payloadBytes: 32 },
      { inflight: 16, payloadBytes: 32 },
      { inflight: 1, payloadBytes: 1024 },
      { inflight: 16, payloadBytes: 1024 },
    ],
  },
  broadcast: { clients: 2_000, messages: 100, payloadBytes: 32 },
  idle: { connections: 10_000 },
  relay: { pairs: 64, payloadBytes: 32, warmupMs: 1_000, durationMs: 3_000 },
  // Issue 22's table: long polling at 32 B and at 1 KiB.
  longPolling: { connections: 64, payloads: [{ payloadBytes: 32 }, { payloadBytes: 1024 }], warmupMs: 1_000, durationMs: 3_000 },
  maxConnections: { target: 50_000, sourceAddresses: 8 },
  // Client pings every 10 s, server every 15 s: 35 s idle spans a round of both.
  maxConnectionsCluster: { connections: 60_000, perProcess: 12_000, sourceAddressesPerProcess: 4, idleMs: 35_000, goal: 50_000 },
};

export const quickSettings: Settings = {
  quick: true,
  runs: 1,
  echo: { connections: 8, warmupMs: 100, durationMs: 300, cases: [{ inflight: 4, payloadBytes: 32 }] },
  broadcast: { clients: 50, messages: 5, payloadBytes: 32 },
  idle: { connections: 100 },
  relay: { pairs: 4, payloadBytes: 32, warmupMs: 100, durationMs: 300 },
  longPolling: { connections: 4, payloads: [{ payloadBytes: 32 }], warmupMs: 100, durationMs: 300 },
  maxConnections: { target: 300, sourceAddresses: 2 },
  maxConnectionsCluster: { connections: 200, perProcess: 100, sourceAddressesPerProcess: 2, idleMs: 500, goal: 50_000 },
};
