/** Pieces every scenario runs with: a server for the length of a run, connections that must all open, interleaved repeats. */
import { type LoadProcess, ServerProcess, type ServerSpec } from "./child-processes.js";
import type { LoadJob } from "./load/load-jobs.js";

export async function withServers<T>(specs: readonly ServerSpec[], run: (servers: ServerProcess[]) => Promise<T>, maxFiles?: number): Promise<T> {
  const servers: ServerProcess[] = [];
  try {
    for (const spec of specs) servers.push(await ServerProcess.start(spec, maxFiles));
    return await run(servers);
  } finally {
    await Promise.all(servers.map((server) => server.stop()));
  }
}

/** Opens the job's connections, failing the run unless every one opened. */
export async function openAll(load: LoadProcess, job: Extract<LoadJob, { type: "open" }>): Promise<void> {
  const opened = await load.run(job, "opened");
  if (opened.failed > 0 || opened.count !== job.count) {
    throw new Error(`${job.wire}: ${opened.count} of ${job.count} connections opened (first error: ${opened.firstError ?? "none"}).`);
  }
}

/**
 * Runs `measure` `runs` times for each subject, run 1 of every subject before run 2 of any, so
 * that a noisy moment on the machine spreads over all subjects instead of one.
 */
export async function interleave<TSubject, TResult>(
  subjects: readonly TSubject[],
  runs: number,
  measure: (subject: TSubject) => Promise<TResult>,
): Promise<Map<TSubject, TResult[]>> {
  const results = new Map<TSubject, TResult[]>(subjects.map((subject) => [subject, []]));
  for (let run = 0; run < runs; run++) {
    for (const subject of subjects) results.get(subject)!.push(await measure(subject));
  }
  return results;
}

export const log = (line: string) => process.stderr.write(`${line}\n`);
