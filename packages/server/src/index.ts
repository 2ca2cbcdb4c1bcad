// Node is the default runtime: the core's API and Node's server (also at "@hubwire/server/node").
export * from "./api.js";
export * from "./node/index.js";
