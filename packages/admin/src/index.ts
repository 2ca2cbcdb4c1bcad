export { type Admin, createAdmin } from "./admin.js";
export type { AdminContract, NodesAnswer } from "./admin-contract.js";
export type { AdminAuthorize, AdminOptions, AdminRequest, ShownHub } from "./admin-options.js";
