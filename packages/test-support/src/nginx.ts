/**
 * Debian's nginx as a round-robin load balancer in front of nodes on 127.0.0.1: its own config,
 * pid file, logs and temp paths in a fresh folder, on a free port, stopped by pid. Under CI=true a
 * missing nginx fails the suite; elsewhere the caller may skip (see {@link nginxSkipReason}).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./redis-process.js";

export const nginxPath = process.env["NGINX_PATH"] ?? "/usr/sbin/nginx";

/** The request header whose value the request log keeps, to tell one client's requests from another's. */
export const nginxClientTagHeader = "X-Test-Client";

/** One request as nginx logged it (with `logRequests`), once it had ended. */
export interface NginxRequest {
  /** The port of the upstream that answered (the last one tried), or undefined if none was reached. */
  readonly upstreamPort: number | undefined;
  readonly method: string;
  /** The path, without the query string. */
  readonly path: string;
  /** The `id` query parameter (a SignalR connection token), or undefined. */
  readonly connectionToken: string | undefined;
  /** The `link` query parameter (the re-attach of a stateful HTTP connection it belongs to), or undefined. */
  readonly link: number | undefined;
  /** The status nginx answered (101 for a WebSocket). */
  readonly status: number;
  /** The value of the {@link nginxClientTagHeader} header, or undefined. */
  readonly clientTag: string | undefined;
}

export interface Nginx {
  readonly port: number;
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly pid: number | undefined;
  /** The requests that have ended so far (empty unless started with `logRequests`). */
  requests(): NginxRequest[];
  /** Stops nginx (SIGTERM, SIGKILL after 5 s) and removes its folder. Safe to call twice. */
  stop(): Promise<void>;
}

export interface NginxOptions {
  /** Ports on 127.0.0.1 to balance over, round-robin. */
  readonly upstreams: readonly number[];
  /** Keep a request log for {@link Nginx.requests}. Default off. */
  readonly logRequests?: boolean;
}

/** Whether the nginx binary is there. */
export function nginxAvailable(): boolean {
  return existsSync(nginxPath);
}

/**
 * Why a test that needs nginx should skip: set when nginx is missing outside CI. Under CI=true it
 * is always undefined, so that the test runs and {@link startNginx} fails it.
 */
export function nginxSkipReason(): string | undefined {
  if (nginxAvailable() || process.env["CI"] === "true") return undefined;
  return `nginx is not installed at ${nginxPath}: run 'apt-get install -y nginx' (the CI script does), or set NGINX_PATH.`;
}

/** The fields of the request log, tab-separated, in {@link NginxRequest}'s order. */
const logFormat = [
  "$upstream_addr",
  "$request_method",
  "$uri",
  "$arg_id",
  "$status",
  `$http_${nginxClientTagHeader.toLowerCase().replaceAll("-", "_")}`,
  "$arg_link",
];

function config(dir: string, port: number, options: NginxOptions): string {
  const requestLog =
    options.logRequests === true ? `log_format hubwire '${logFormat.join("\\t")}';\n  access_log ${join(dir, "requests.log")} hubwire;` : "access_log off;";
  return `# Written by @hubwire/test-support's startNginx.
worker_processes 1;
${
  // As root the workers would drop to 'nobody', which cannot enter this 0700 folder (request bodies
  // past the buffer go to its temp paths); they stay root instead. Not root: the directive is moot.
  process.getuid?.() === 0 ? "user root;" : ""
}
pid ${join(dir, "nginx.pid")};
error_log ${join(dir, "error.log")} warn;

events {
  worker_connections 1024;
}

http {
  ${requestLog}
  client_body_temp_path ${join(dir, "client-body")};
  proxy_temp_path ${join(dir, "proxy")};
  fastcgi_temp_path ${join(dir, "fastcgi")};
  uwsgi_temp_path ${join(dir, "uwsgi")};
  scgi_temp_path ${join(dir, "scgi")};

  map $http_upgrade $connection_upgrade {
    default upgrade;
    '' close;
  }

  # Round-robin (nginx's default) with no affinity: no ip_hash, hash or sticky. No keepalive
  # either, so every request opens its own connection to the node its turn picks. One worker:
  # one rotation, so consecutive requests go to consecutive nodes.
  upstream hubwire_nodes {
${options.upstreams.map((upstream) => `    server 127.0.0.1:${upstream};`).join("\n")}
  }

  server {
    listen 127.0.0.1:${port};

    location / {
      proxy_pass http://hubwire_nodes;
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      # Server-Sent Events: each event passes as it comes.
      proxy_buffering off;
      proxy_cache off;
      # Long polls (90 s on the server, 100 s in clients) and idle WebSockets.
      proxy_read_timeout 300s;
      proxy_send_timeout 300s;
      # The nodes enforce their own limits.
      client_max_body_size 0;
      # Which node answered, for tests to read.
      add_header X-Upstream $upstream_addr always;
    }
  }
}
`;
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

function parseRequests(text: string): NginxRequest[] {
  return text
    .split("\n")
    .filter(Boolean)
    .map((line) => {
      const [upstream = "-", method = "", path = "", id = "", status = "0", tag = "-", link = "-"] = line.split("\t");
      // "127.0.0.1:1, 127.0.0.1:2" when nginx tried more than one; "-" when it reached none.
      const port = /:(\d+)$/.exec(upstream)?.[1];
      return {
        upstreamPort: port === undefined ? undefined : Number(port),
        method,
        path,
        connectionToken: id === "-" || id === "" ? undefined : decodeURIComponent(id),
        status: Number(status),
        clientTag: tag === "-" ? undefined : tag,
        link: link === "-" || link === "" ? undefined : Number(link),
      };
    });
}

/**
 * Starts nginx in front of `upstreams`, round-robin with no affinity, carrying WebSockets,
 * Server-Sent Events and long polls. Throws if nginx is missing or does not start.
 *
 * @example
 * ```ts
 * const balancer = await startNginx({ upstreams: [nodeA.port, nodeB.port], logRequests: true });
 * const response = await fetch(`${balancer.url}/hub/negotiate?negotiateVersion=1`, { method: "POST" });
 * response.headers.get("X-Upstream"); // "127.0.0.1:<the node that answered>"
 * await balancer.stop();
 * ```
 */
export async function startNginx(options: NginxOptions): Promise<Nginx> {
  if (options.upstreams.length === 0) throw new Error("startNginx needs at least one upstream port.");
  if (!nginxAvailable()) {
    throw new Error(`nginx is not installed at ${nginxPath}: run 'apt-get install -y nginx' (the CI script does), or set NGINX_PATH.`);
  }
  const dir = mkdtempSync(join(tmpdir(), "hubwire-nginx-"));
  const port = await freePort();
  const conf = join(dir, "nginx.conf");
  writeFileSync(conf, config(dir, port, options));
  // -e: the error log before the config is read (else the compiled-in /var/log/nginx/error.log).
  const child: ChildProcess = spawn(nginxPath, ["-p", dir, "-c", conf, "-e", join(dir, "error.log"), "-g", "daemon off;"], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const errorLog = () => (existsSync(join(dir, "error.log")) ? readFileSync(join(dir, "error.log"), "utf8") : "");
  // Never outlive the test process (a crashed runner cannot do this; nginx is then left running).
  const onExit = () => child.kill("SIGKILL");
  process.once("exit", onExit);
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    process.off("exit", onExit);
    if (child.exitCode === null && child.signalCode === null) {
      // SIGTERM: fast shutdown, open long polls and WebSockets are cut rather than waited for.
      child.kill("SIGTERM");
      const killer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await exited;
      clearTimeout(killer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      const why = `${stderr}${errorLog()}`.trim();
      await stop();
      throw new Error(`nginx exited before it listened: ${why || "(no output)"}`);
    }
    if (await accepts(port)) break;
    if (Date.now() > deadline) {
      const why = `${stderr}${errorLog()}`.trim();
      await stop();
      throw new Error(`nginx did not listen on ${port} within 10 s: ${why || "(no output)"}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    get pid() {
      return child.pid;
    },
    requests: () => {
      const log = join(dir, "requests.log");
      return existsSync(log) ? parseRequests(readFileSync(log, "utf8")) : [];
    },
    stop,
  };
}
