export { type CallError, isCallError } from "./call-answers.js";
export { type RefusalData, serveHubs, socketIoTransport } from "./serve-hubs.js";
export { closeEvent } from "./socket-client.js";
export type { ClientEvents, ServerEvents, SocketIoEvents } from "./typed-events.js";
