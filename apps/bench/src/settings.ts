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
  readonly longPolling: { readonly connections: number; readonly payloadBytes: number; readonly warmupMs: number; readonly durationMs: number };
  readonly maxConnections: { readonly target: number; readonly sourceAddresses: number };
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
  longPolling: { connections: 64, payloadBytes: 32, warmupMs: 1_000, durationMs: 3_000 },
  maxConnections: { target: 50_000, sourceAddresses: 8 },
};

export const quickSettings: Settings = {
  quick: true,
  runs: 1,
  echo: { connections: 8, warmupMs: 100, durationMs: 300, cases: [{ inflight: 4, payloadBytes: 32 }] },
  broadcast: { clients: 50, messages: 5, payloadBytes: 32 },
  idle: { connections: 100 },
  relay: { pairs: 4, payloadBytes: 32, warmupMs: 100, durationMs: 300 },
  longPolling: { connections: 4, payloadBytes: 32, warmupMs: 100, durationMs: 300 },
  maxConnections: { target: 300, sourceAddresses: 2 },
};
