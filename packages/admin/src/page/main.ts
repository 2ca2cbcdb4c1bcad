/**
 * The admin page's script: connects to the admin hub, and every refresh reads the chosen hub's
 * nodes (cards and charts over the last five minutes) and the current pages of its connections
 * and groups; the buttons act through the same hub.
 *
 * @module
 */
import { HubConnection } from "@hubwire/client";
import type { ConnectionReport, GroupReport, Page } from "@hubwire/server";
import type { AdminContract } from "../admin-contract.js";
import { drawChart, escapeHtml, formatNumber, type Series } from "./charts.js";

const windowMs = 5 * 60_000;
const pageSize = 25;
const body = document.body;
const path = body.dataset["path"] ?? "/admin";
const refreshMs = Number(body.dataset["refreshMs"] ?? 2_000);
const element = <T extends HTMLElement | SVGSVGElement = HTMLElement>(id: string) => document.getElementById(id) as T;

const connection = new HubConnection<AdminContract>(new URL(`${path}/hub`, location.href).href, { reconnect: true });
const history = {
  connections: new Map<string, Array<[number, number]>>(),
  messages: new Map<string, Array<[number, number]>>(),
  transports: new Map<string, Array<[number, number]>>(),
  "transport-messages": new Map<string, Array<[number, number]>>(),
};
const state = {
  hub: "",
  connectionsAfter: undefined as string | undefined,
  connectionsNext: undefined as string | undefined,
  groupsAfter: undefined as string | undefined,
  groupsNext: undefined as string | undefined,
};

function record(series: Map<string, Array<[number, number]>>, name: string, time: number, value: number): void {
  const points = series.get(name) ?? [];
  points.push([time, value]);
  while (points.length > 0 && points[0]![0] < time - windowMs) points.shift();
  series.set(name, points);
}

function status(text: string): void {
  element("status").textContent = text;
}

async function refreshNodes(now: number): Promise<void> {
  const { nodes, unanswered } = await connection.invoke("nodes", state.hub);
  const transports = new Map<string, number>();
  const transportMessages = new Map<string, number>();
  const add = (totals: Map<string, number>, counts: Readonly<Record<string, number>>) => {
    for (const [name, count] of Object.entries(counts)) totals.set(name, (totals.get(name) ?? 0) + count);
  };
  for (const node of nodes) {
    record(history.connections, node.nodeId, now, node.connections);
    record(history.messages, node.nodeId, now, node.messagesInPerSecond + node.messagesOutPerSecond);
    add(transports, node.transports);
    add(transportMessages, node.messagesPerSecondByTransport);
  }
  // Summed over the nodes; a transport that had some and has none now goes on at zero.
  for (const [series, totals] of [
    [history.transports, transports],
    [history["transport-messages"], transportMessages],
  ] as const) {
    for (const name of new Set([...series.keys(), ...totals.keys()])) record(series, name, now, totals.get(name) ?? 0);
  }
  element("nodes").innerHTML = [
    ...nodes.map(
      (node) =>
        `<div class="card" data-node="${escapeHtml(node.nodeId)}"><strong>${escapeHtml(node.nodeId)}</strong><br>${node.connections} connections, ${node.groups} groups<br>` +
        `${formatNumber(node.messagesInPerSecond)} in/s, ${formatNumber(node.messagesOutPerSecond)} out/s</div>`,
    ),
    ...unanswered.map((nodeId) => `<div class="card missing"><strong>${escapeHtml(nodeId)}</strong><br>did not answer in time</div>`),
  ].join("");
  for (const name of ["connections", "messages", "transports", "transport-messages"] as const) {
    drawChart(element<SVGSVGElement>(`chart-${name}`), element(`legend-${name}`), history[name] as Map<string, Series>, now, windowMs);
  }
}

function connectionRow(report: ConnectionReport): string {
  const groups = report.groups
    .map(
      (group) =>
        `<span class="chip">${escapeHtml(group)}<button title="Remove from ${escapeHtml(group)}" data-remove="${escapeHtml(report.connectionId)}" data-group="${escapeHtml(group)}">×</button></span>`,
    )
    .join("");
  return (
    `<tr data-connection="${escapeHtml(report.connectionId)}"><td><code>${escapeHtml(report.connectionId)}</code></td><td>${escapeHtml(report.userId ?? "")}</td>` +
    `<td>${escapeHtml(report.nodeId)}</td><td>${escapeHtml(report.transport)}</td><td>${escapeHtml(report.protocol)}</td>` +
    `<td>${new Date(report.connectedAt).toLocaleTimeString()}</td><td>${groups}</td>` +
    `<td class="num">${report.messagesIn} / ${report.messagesOut}</td><td class="num">${formatNumber(report.bytesIn)} / ${formatNumber(report.bytesOut)}</td>` +
    `<td><button data-disconnect="${escapeHtml(report.connectionId)}">Disconnect</button></td></tr>`
  );
}

async function refreshTables(): Promise<void> {
  const connectionsQuery = {
    limit: pageSize,
    search: element<HTMLInputElement>("connection-search").value,
    ...(state.connectionsAfter === undefined ? {} : { after: state.connectionsAfter }),
  };
  const groupsQuery = {
    limit: pageSize,
    search: element<HTMLInputElement>("group-search").value,
    ...(state.groupsAfter === undefined ? {} : { after: state.groupsAfter }),
  };
  const [connections, groups]: [Page<ConnectionReport>, Page<GroupReport>] = await Promise.all([
    connection.invoke("connections", state.hub, connectionsQuery),
    connection.invoke("groups", state.hub, groupsQuery),
  ]);
  state.connectionsNext = connections.next;
  state.groupsNext = groups.next;
  element("connections").innerHTML = connections.items.map(connectionRow).join("") || `<tr><td colspan="10">No connections.</td></tr>`;
  element("groups").innerHTML =
    groups.items
      .map((group) => `<tr data-group-row="${escapeHtml(group.name)}"><td>${escapeHtml(group.name)}</td><td class="num">${group.size}</td></tr>`)
      .join("") || `<tr><td colspan="2">No groups.</td></tr>`;
  element<HTMLButtonElement>("connections-next").disabled = connections.next === undefined;
  element<HTMLButtonElement>("groups-next").disabled = groups.next === undefined;
}

async function refresh(): Promise<void> {
  if (connection.state !== "Connected" || state.hub === "") return;
  try {
    await Promise.all([refreshNodes(Date.now()), refreshTables()]);
    status(`live, every ${refreshMs / 1000} s · ${new Date().toLocaleTimeString()}`);
  } catch (error) {
    status(`refresh failed: ${(error as Error).message}`);
  }
}

document.addEventListener("click", (event) => {
  const target = event.target as HTMLElement;
  const act = async (work: Promise<void>) => {
    try {
      await work;
    } catch (error) {
      status(`action failed: ${(error as Error).message}`);
    }
    await refresh();
  };
  if (target.dataset["disconnect"] !== undefined) void act(connection.invoke("disconnect", state.hub, target.dataset["disconnect"]));
  else if (target.dataset["remove"] !== undefined)
    void act(connection.invoke("removeFromGroup", state.hub, target.dataset["remove"], target.dataset["group"]!));
  else if (target.id === "connections-next" && state.connectionsNext !== undefined)
    void act(Promise.resolve(void (state.connectionsAfter = state.connectionsNext)));
  else if (target.id === "connections-first") void act(Promise.resolve(void (state.connectionsAfter = undefined)));
  else if (target.id === "groups-next" && state.groupsNext !== undefined) void act(Promise.resolve(void (state.groupsAfter = state.groupsNext)));
  else if (target.id === "groups-first") void act(Promise.resolve(void (state.groupsAfter = undefined)));
});
for (const id of ["connection-search", "group-search"]) {
  element(id).addEventListener("input", () => {
    state.connectionsAfter = state.groupsAfter = undefined;
    void refresh();
  });
}
element<HTMLSelectElement>("hub").addEventListener("change", (event) => {
  state.hub = (event.target as HTMLSelectElement).value;
  for (const series of Object.values(history)) series.clear();
  state.connectionsAfter = state.groupsAfter = undefined;
  void refresh();
});
connection.onReconnecting(() => status("reconnecting…"));
connection.onClose((error) => status(`disconnected${error ? `: ${error.message}` : ""}`));

async function start(): Promise<void> {
  try {
    await connection.start();
  } catch (error) {
    status(`could not connect: ${(error as Error).message}`);
    return;
  }
  const hubs = await connection.invoke("hubs");
  element("hub").innerHTML = hubs.map((hub) => `<option>${escapeHtml(hub)}</option>`).join("");
  state.hub = hubs[0] ?? "";
  await refresh();
  setInterval(() => void refresh(), refreshMs);
}
void start();
