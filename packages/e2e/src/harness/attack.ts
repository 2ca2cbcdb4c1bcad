/**
 * One bad input against a node: run it, then require that the node is still alive and the
 * healthy neighbour still answers; tally the outcome for the summary either way.
 */
import type { HubNode } from "./hub-node.js";
import type { Neighbour } from "./neighbour.js";
import { tally } from "./scoreboard.js";

export async function attack<T>(node: HubNode, neighbour: Neighbour, name: string, run: () => Promise<T>): Promise<T> {
  let result: T;
  try {
    result = await run();
  } finally {
    if (!node.isAlive) tally({ kind: "malformed", case: name, outcome: "crash" });
  }
  if (!node.isAlive) throw new Error(`The node died on: ${name}`);
  try {
    await neighbour.check();
  } catch (error) {
    tally({ kind: "malformed", case: name, outcome: "neighbour-hurt" });
    throw error;
  }
  tally({ kind: "malformed", case: name, outcome: "handled" });
  return result;
}
