/**
 * The chat page, typed by the same contract as the hub: on @hubwire/client, or on socket.io-client
 * with `?client=socket.io` (the same rooms either way); `?transport=` forces a transport.
 */
import type { ChatMessage, NodeStatus } from "../contract.js";
import type { ChatLink } from "./chat-link.js";
import { hubwireLink } from "./hubwire-link.js";
import { serverErrorText } from "./server-error-text.js";
import { socketIoLink } from "./socket-io-link.js";

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const status = $<HTMLParagraphElement>("status");
const node = $<HTMLParagraphElement>("node");
const backplane = $<HTMLParagraphElement>("backplane");
const messages = $<HTMLUListElement>("messages");
const who = $<HTMLUListElement>("who");
const typing = $<HTMLParagraphElement>("typing");
const text = $<HTMLInputElement>("text");

const query = new URLSearchParams(location.search);
const forced = query.get("transport");
const link: ChatLink = query.get("client") === "socket.io" ? socketIoLink(forced) : hubwireLink(forced);
document.body.dataset["client"] = link.client;
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
  const active = link.transport;
  for (const anchor of document.querySelectorAll<HTMLAnchorElement>("a[data-transport]")) {
    if (anchor.dataset["transport"] === active) anchor.setAttribute("aria-current", "true");
    else anchor.removeAttribute("aria-current");
  }
}

/** The client link in use highlighted; each link keeps the other choice (the client, the transport) of this page's address. */
function showClient(): void {
  for (const anchor of document.querySelectorAll<HTMLAnchorElement>("a[data-client], a[data-transport]")) {
    const target = new URLSearchParams(query);
    const { client, transport } = anchor.dataset;
    if (transport !== undefined) target.set("transport", transport);
    if (client === "hubwire") target.delete("client");
    else if (client !== undefined) target.set("client", client);
    anchor.href = `?${target}`;
    if (client === link.client) anchor.setAttribute("aria-current", "true");
  }
}
showClient();

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

link.on("message", (message) => {
  if (message.room !== room) return;
  stopTyping(message.user);
  show(message);
});
link.on("joined", (joinedRoom, user) => {
  if (joinedRoom !== room) return;
  present.add(user);
  showWho();
  line(`${user} joined`, true);
});
link.on("left", (leftRoom, user) => {
  if (leftRoom !== room) return;
  present.delete(user);
  showWho();
  stopTyping(user);
  line(`${user} left`, true);
});
link.on("typing", (typingRoom, user) => {
  if (typingRoom !== room) return;
  typing.textContent = `${user} is typing…`;
  typingUser = user;
  clearTimeout(typingTimer);
  typingTimer = setTimeout(stopTyping, 1500);
});
link.on("nodeStatus", showNode);
link.onReconnecting((error) => showConnection(error === undefined ? "Reconnecting…" : `Reconnecting… (${serverErrorText(error)})`));
link.onReconnected(async () => {
  showConnection(`Connected over ${link.transport}`);
  // A reconnect is a new connection: join the room again.
  if (room === undefined) return;
  await enter(room).catch((error: unknown) => line(`Could not join again: ${serverErrorText(error)}`, true));
});
link.onClose((error) => {
  showConnection(error === undefined ? "Disconnected" : `Disconnected: ${serverErrorText(error)}`);
  if (error !== undefined) line(`Connection closed: ${serverErrorText(error)}`, true);
});

async function enter(target: string): Promise<void> {
  const members = await link.join(target, name);
  room = target;
  present.clear();
  for (const user of [...members, name]) present.add(user);
  showWho();
  messages.replaceChildren();
  try {
    for await (const message of link.history(target)) show(message);
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
    if (room !== undefined && room !== target) await link.leave(room);
    await enter(target);
  } catch (error) {
    line(`Could not join: ${serverErrorText(error)}`, true);
  }
});

$<HTMLButtonElement>("leave").addEventListener("click", async () => {
  if (room === undefined) return;
  try {
    await link.leave(room);
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
  await link.send(room, value).catch((error: unknown) => line(`Not sent: ${serverErrorText(error)}`, true));
});

text.addEventListener("input", () => {
  if (room === undefined || Date.now() - lastTyping < 1000) return;
  lastTyping = Date.now();
  link.typing(room);
});

// Closing the tab leaves at once instead of after the server's disconnect timeout.
addEventListener("pagehide", () => link.stop());

try {
  await link.start();
  showConnection(`Connected over ${link.transport}`);
  document.body.dataset["ready"] = "true";
} catch (error) {
  showConnection(`Could not connect: ${serverErrorText(error)}`);
}
