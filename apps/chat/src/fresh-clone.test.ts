import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { HubConnection } from "@hubwire/client";
import { freePort } from "@hubwire/test-support";
import { afterAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import type { ChatContract } from "./contract.js";

const repository = fileURLToPath(new URL("../../..", import.meta.url));

describe("the README's quick start on a fresh clone", () => {
  const folder = mkdtempSync(join(tmpdir(), "hubwire-clone-"));
  let stop: (() => void) | undefined;
  afterAll(() => {
    stop?.();
    rmSync(folder, { recursive: true, force: true });
  });

  it("`npm install && npm start` serves the chat page and a hub round trip works", { timeout: 600_000 }, async () => {
    execFileSync("git", ["clone", "--quiet", "--depth", "1", `file://${repository}`, folder], { stdio: "inherit" });
    execFileSync("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error"], { cwd: folder, stdio: "inherit" });
    const port = await freePort();
    const child = spawn("npm", ["start"], { cwd: folder, env: { ...process.env, PORT: String(port) }, detached: true, stdio: ["ignore", "pipe", "inherit"] });
    stop = () => {
      try {
        process.kill(-child.pid!, "SIGTERM");
      } catch {
        // Already gone.
      }
    };
    const banner = await new Promise<string>((resolve, reject) => {
      let output = "";
      child.stdout!.on("data", (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes("is running at")) resolve(output);
      });
      child.once("exit", (code) => reject(new Error(`npm start exited with ${code}:\n${output}`)));
    });
    expect(banner).toContain(`http://localhost:${port}/`);

    const page = await fetch(`http://127.0.0.1:${port}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("Hubwire chat");
    expect((await fetch(`http://127.0.0.1:${port}/app.js`)).status).toBe(200);

    const connection = new HubConnection<ChatContract>(`http://127.0.0.1:${port}/chat`, { WebSocket: WebSocket as never });
    await connection.start();
    expect(await connection.invoke("join", "lobby", "CI")).toEqual([]);
    expect(await connection.invoke("who", "lobby")).toEqual(["CI"]);
    await connection.stop();

    // Stopping npm start with a signal to its own pid (as a process manager does) stops the sample,
    // which says so: npm itself exits at once without passing the signal on.
    let output = "";
    child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const stopped = new Promise<void>((resolve) => child.stdout!.on("end", resolve));
    process.kill(child.pid!, "SIGTERM");
    await stopped;
    expect(output).toContain("Hubwire chat stopped.");
    await expect(fetch(`http://127.0.0.1:${port}/`)).rejects.toThrow();
  });

  it("`npm run start:echo` serves the echo sample from the same clone, says its URL, and stops with npm", { timeout: 300_000 }, async () => {
    const port = await freePort();
    const child = spawn("npm", ["run", "start:echo"], { cwd: folder, env: { ...process.env, PORT: String(port) }, stdio: ["ignore", "pipe", "inherit"] });
    let output = "";
    child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const ended = new Promise<void>((resolve) => child.stdout!.on("end", resolve));
    const deadline = Date.now() + 240_000;
    while (!output.includes("Echo sample at")) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`The echo sample did not start:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(output).toContain(`http://localhost:${port}/`);
    expect((await fetch(`http://127.0.0.1:${port}/`)).status).toBe(200);
    process.kill(child.pid!, "SIGTERM");
    await ended;
    expect(output).toContain("Echo sample stopped.");
  });
});
