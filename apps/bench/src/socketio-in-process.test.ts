import { describe, expect, it } from "vitest";
import { measureInProcess } from "./socketio-in-process.js";

// The probe's harness, not its figures: every packet handed in is answered and counted, on both paths.
describe("socket.io's echo measured in process", () => {
  for (const path of ["hub", "plain"] as const) {
    it(`answers every packet handed to the server's socket, ${path}`, async () => {
      const { nsPerCall, answered, handedIn } = await measureInProcess(path, 1024, { calls: 1_000, rounds: 2 });
      expect(handedIn).toBe(2_500);
      expect(answered).toBe(handedIn);
      expect(nsPerCall).toHaveLength(2);
      for (const ns of nsPerCall) expect(Number.isFinite(ns) && ns > 0).toBe(true);
    });
  }
});
