export { createAdmin, type Admin } from "./admin.js";
export type { AdminAuthorize, AdminOptions, AdminRequest } from "./admin-options.js";
export type { AdminContract, NodesAnswer } from "./admin-contract.js";
