/** The chat page: @hubwire/client, typed by the same contract as the hub. */
import { HubConnection, type TransportName } from "@hubwire/client";
import type { ChatContract, ChatMessage, NodeStatus } from "../contract.js";
import { serverErrorText } from "./server-error-text.js";

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const status = $<HTMLParagraphElement>("status");
const node = $<HTMLParagraphElement>("node");
const backplane = $<HTMLParagraphElement>("backplane");
const messages = $<HTMLUListElement>("messages");
const who = $<HTMLUListElement>("who");
const typing = $<HTMLParagraphElement>("typing");
const text = $<HTMLInputElement>("text");

const forced = new URLSearchParams(location.search).get("transport") as TransportName | null;
const connection = new HubConnection<ChatContract>("/chat", {
  reconnect: true,
  ...(forced === null ? {} : { transports: [forced] }),
});
let room: string | undefined;
let name = "";
const present = new Set<string>();

function append(item: HTMLLIElement): void {
  messages.append(item);
  messages.scrollTop = messages.scrollHeight;
}

function line(content: string, notice = false): void {
  const item = document.createElement("li");
  item.textContent = content;
  if (notice) item.className = "notice";
  append(item);
}

function showWho(): void {
  who.replaceChildren(...[...present].sort().map((user) => Object.assign(document.createElement("li"), { textContent: user })));
}

/** A message with its time (the server's clock) and, when it is this page's name, marked as ours. */
function show(message: ChatMessage): void {
  const item = document.createElement("li");
  item.className = message.user === name ? "message mine" : "message";
  const at = new Date(message.at);
  const time = Object.assign(document.createElement("time"), {
    dateTime: at.toISOString(),
    textContent: at.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }),
    title: at.toLocaleString(),
  });
  const user = Object.assign(document.createElement("strong"), { className: "user", textContent: message.user });
  const words = Object.assign(document.createElement("span"), { className: "text", textContent: message.text });
  item.append(time, " ", user, ": ", words);
  append(item);
}

/** The status line, and the transport link in use highlighted (none while not connected). */
function showConnection(state: string): void {
  status.textContent = state;
  const active = connection.state === "Connected" ? connection.transport : undefined;
  for (const link of document.querySelectorAll<HTMLAnchorElement>("a[data-transport]")) {
    if (link.dataset["transport"] === active) link.setAttribute("aria-current", "true");
    else link.removeAttribute("aria-current");
  }
}

function showNode(current: NodeStatus): void {
  node.dataset["nodeId"] = current.nodeId;
  node.textContent = `Served by node ${current.nodeId} (${current.rooms === "memory" ? "in memory" : "shared over Redis"}).`;
  backplane.hidden = current.rooms !== "redis-lost";
}

let typingTimer: ReturnType<typeof setTimeout> | undefined;
let typingUser: string | undefined;
/** Hides "X is typing…" once X has sent or left, rather than 1.5 s later. */
function stopTyping(user?: string): void {
  if (user !== undefined && user !== typingUser) return;
  clearTimeout(typingTimer);
  typing.textContent = "";
  typingUser = undefined;
}

connection.on("message", (message) => {
  if (message.room !== room) return;
  stopTyping(message.user);
  show(message);
});
connection.on("joined", (joinedRoom, user) => {
  if (joinedRoom !== room) return;
  present.add(user);
  showWho();
  line(`${user} joined`, true);
});
connection.on("left", (leftRoom, user) => {
  if (leftRoom !== room) return;
  present.delete(user);
  showWho();
  stopTyping(user);
  line(`${user} left`, true);
});
connection.on("typing", (typingRoom, user) => {
  if (typingRoom !== room) return;
  typing.textContent = `${user} is typing…`;
  typingUser = user;
  clearTimeout(typingTimer);
  typingTimer = setTimeout(stopTyping, 1500);
});
connection.on("nodeStatus", showNode);
connection.onReconnecting(() => showConnection("Reconnecting…"));
connection.onReconnected(async () => {
  showConnection(`Connected over ${connection.transport}`);
  // A reconnect is a new connection: join the room again.
  if (room === undefined) return;
  await enter(room).catch((error: unknown) => line(`Could not join again: ${serverErrorText(error)}`, true));
});
connection.onClose(() => showConnection("Disconnected"));

async function enter(target: string): Promise<void> {
  const members = await connection.invoke("join", target, name);
  room = target;
  present.clear();
  for (const user of [...members, name]) present.add(user);
  showWho();
  messages.replaceChildren();
  try {
    for await (const message of connection.stream("history", target)) show(message);
  } catch (error) {
    // In the room all the same: new messages arrive.
    line(`Could not load the history: ${serverErrorText(error)}`, true);
  }
  line(`You joined ${target}`, true);
  text.disabled = $<HTMLButtonElement>("send-button").disabled = $<HTMLButtonElement>("leave").disabled = false;
  text.focus();
}

$<HTMLFormElement>("join").addEventListener("submit", async (event) => {
  event.preventDefault();
  name = $<HTMLInputElement>("name").value.trim();
  const target = $<HTMLInputElement>("room").value.trim();
  try {
    if (room !== undefined && room !== target) await connection.invoke("leave", room);
    await enter(target);
  } catch (error) {
    line(`Could not join: ${serverErrorText(error)}`, true);
  }
});

$<HTMLButtonElement>("leave").addEventListener("click", async () => {
  if (room === undefined) return;
  try {
    await connection.invoke("leave", room);
  } catch (error) {
    line(`Could not leave: ${serverErrorText(error)}`, true);
    return;
  }
  line(`You left ${room}`, true);
  room = undefined;
  present.clear();
  showWho();
  text.disabled = $<HTMLButtonElement>("send-button").disabled = $<HTMLButtonElement>("leave").disabled = true;
});

let lastTyping = 0;
$<HTMLFormElement>("send").addEventListener("submit", async (event) => {
  event.preventDefault();
  if (room === undefined || text.value.trim() === "") return;
  const value = text.value;
  text.value = "";
  // The others hide "typing…" when the message arrives: announce the next keystroke at once.
  lastTyping = 0;
  await connection.invoke("send", room, value).catch((error: unknown) => line(`Not sent: ${serverErrorText(error)}`, true));
});

text.addEventListener("input", () => {
  if (room === undefined || Date.now() - lastTyping < 1000) return;
  lastTyping = Date.now();
  void connection.send("typing", room);
});

// Closing the tab leaves at once instead of after the server's disconnect timeout.
addEventListener("pagehide", () => void connection.stop());

try {
  await connection.start();
  showConnection(`Connected over ${connection.transport}`);
  document.body.dataset["ready"] = "true";
} catch (error) {
  showConnection(`Could not connect: ${serverErrorText(error)}`);
}
