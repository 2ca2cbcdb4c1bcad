/**
 * The getting-started guide, followed as a newcomer follows it: its commands, files and promised
 * output are taken out of docs/getting-started.md in order and run in a new folder outside the
 * monorepo, against the packages as `npm run pack:local` packs them, with the npm registry for
 * everything else. A step that stops working as written, or prints other than the guide says,
 * fails here.
 *
 * What each fenced block of the guide is, by its info string:
 * - `sh hubwire`: run in the clone of Hubwire (here, this repository).
 * - `sh project`: run in the project folder; `sh project background`: started there and left
 *   running (a server) until the guide is done.
 * - `<lang> file=NAME`: written to the project folder as NAME.
 * - `text output`: what the command before it prints; each line must appear, in this order. The
 *   guide's port 5000 stands for the free port the test gives through `PORT` and `HUB_URL`.
 * - anything else is prose.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const repository = fileURLToPath(new URL("../../../", import.meta.url));
const guide = readFileSync(join(repository, "docs", "getting-started.md"), "utf8");

type Step =
  | { readonly kind: "run"; readonly where: "hubwire" | "project"; readonly background: boolean; readonly script: string; readonly expected: readonly string[] }
  | { readonly kind: "file"; readonly name: string; readonly content: string };

/** The guide's steps, each command with the output the guide promises for it. */
function stepsOf(markdown: string): Step[] {
  const steps: Step[] = [];
  for (const [, info, body] of markdown.matchAll(/^```([^\n]*)\n([\s\S]*?)^```$/gm)) {
    const words = info!.trim().split(/\s+/);
    const file = words.find((word) => word.startsWith("file="));
    if (file !== undefined) steps.push({ kind: "file", name: file.slice("file=".length), content: body! });
    else if (words[0] === "sh" && (words[1] === "hubwire" || words[1] === "project")) {
      steps.push({ kind: "run", where: words[1], background: words[2] === "background", script: body!, expected: [] });
    } else if (words[0] === "text" && words[1] === "output") {
      const last = steps.at(-1);
      if (last?.kind !== "run") throw new Error("The guide has a `text output` block that follows no command.");
      steps[steps.length - 1] = { ...last, expected: body!.split("\n").filter((line) => line.trim() !== "") };
    }
  }
  return steps;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A shell a newcomer would have: no npm_* variables from the npm running these tests, no test log settings. */
function shellEnvironment(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!/^npm_/i.test(name) && !["HUBWIRE_LOG", "INIT_CWD", "VITEST", "NODE_ENV", "TEST"].includes(name) && !name.startsWith("VITEST_")) env[name] = value;
  }
  // npm's own settings, not the guide's commands: use the cache the clone was installed from.
  return { ...env, npm_config_prefer_offline: "true", npm_config_audit: "false", npm_config_fund: "false", npm_config_update_notifier: "false", ...extra };
}

/** Each expected line in `output`, in order: the lines that are missing. */
function missingLines(output: string, expected: readonly string[]): string[] {
  const lines = output.split("\n").map((line) => line.trimEnd());
  let at = 0;
  const missing: string[] = [];
  for (const line of expected) {
    const found = lines.indexOf(line.trimEnd(), at);
    if (found === -1) missing.push(line);
    else at = found + 1;
  }
  return missing;
}

const running: ChildProcess[] = [];
let work: string | undefined;

afterAll(() => {
  for (const child of running) if (child.exitCode === null && child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
  if (work !== undefined) rmSync(work, { recursive: true, force: true });
});

describe("docs/getting-started.md", () => {
  it("runs as written in a new project outside the repository, and prints what it says", async () => {
    const steps = stepsOf(guide);
    expect(steps.filter((step) => step.kind === "run").length, "the guide's commands").toBeGreaterThanOrEqual(4);
    work = mkdtempSync(join(tmpdir(), "hubwire-guide-"));
    const project = join(work, "hello-hub");
    mkdirSync(project);
    const port = await freePort();
    const env = shellEnvironment({ HUBWIRE: repository, PORT: String(port), HUB_URL: `http://localhost:${port}/chat` });

    for (const step of steps) {
      if (step.kind === "file") {
        writeFileSync(join(project, step.name), step.content);
        continue;
      }
      const expected = step.expected.map((line) => line.replaceAll("localhost:5000", `localhost:${port}`));
      const child = spawn("bash", ["-e", "-c", step.script], { cwd: step.where === "hubwire" ? repository : project, env, detached: true });
      running.push(child);
      let output = "";
      child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
      child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
      const what = `\`${step.script.trim()}\``;
      if (step.background) {
        // Left running: done when it has printed what the guide says, failed if it exits first.
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(
            () => reject(new Error(`${what} did not print ${JSON.stringify(missingLines(output, expected))} within 60 s. It printed:\n${output}`)),
            60_000,
          );
          const check = () => {
            if (missingLines(output, expected).length > 0) return;
            clearTimeout(timer);
            resolve();
          };
          child.stdout!.on("data", check);
          child.stderr!.on("data", check);
          child.once(
            "exit",
            (code) => (clearTimeout(timer), reject(new Error(`${what} exited (${code}) while the guide leaves it running. It printed:\n${output}`))),
          );
        });
        continue;
      }
      // Runs to its end on its own: a client that never exits fails here.
      const code = await new Promise<number | null>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${what} did not end within 240 s. It printed:\n${output}`)), 240_000);
        child.once("exit", (exitCode) => (clearTimeout(timer), resolve(exitCode)));
      });
      expect(code, `${what} failed. It printed:\n${output}`).toBe(0);
      expect(missingLines(output, expected), `${what} printed:\n${output}`).toEqual([]);
    }

    // The guide's promise about types: a misspelt method in client.ts is a compile error.
    const client = readFileSync(join(project, "client.ts"), "utf8");
    expect(client).toContain('"join"');
    writeFileSync(join(project, "client.ts"), client.replace('"join"', '"jion"'));
    const checked = await new Promise<{ code: number | null; output: string }>((resolve) => {
      const tsc = spawn("npx", ["tsc"], { cwd: project, env });
      let output = "";
      tsc.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
      tsc.on("exit", (code) => resolve({ code, output }));
    });
    expect(checked.code).not.toBe(0);
    expect(checked.output).toMatch(/client\.ts.*"jion"/s);
  }, 600_000);
});
