export { lifetimeManagerContract, RecordingConnection } from "./lifetime-manager-contract.js";
