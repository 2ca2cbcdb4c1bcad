/** The chat page: a name, the messages, a box to write in; everything through `useHub<Chat>`. */
import { HubError } from "@hubwire/client";
import { type FormEvent, useState } from "react";
import type { Chat, ChatMessage } from "../contract.js";
import { useHub } from "./use-hub.js";

/** SignalR puts its own sentence before a hub's error; the page shows the hub's words. */
function hubWords(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const at = message.indexOf(" HubException: ");
  return error instanceof HubError && at !== -1 ? message.slice(at + " HubException: ".length) : message;
}

export function App() {
  const [messages, setMessages] = useState<readonly ChatMessage[]>([]);
  const [name, setName] = useState("");
  const [text, setText] = useState("");
  const [problem, setProblem] = useState("");
  const { connection, state, error } = useHub<Chat>("/chat", (hub) => {
    hub.on("receive", (message) => setMessages((list) => [...list, message]));
  });
  const connected = state === "Connected";

  async function send(event: FormEvent) {
    event.preventDefault();
    if (connection === undefined) return;
    try {
      await connection.invoke("send", name, text);
      setText("");
      setProblem("");
    } catch (failure) {
      setProblem(hubWords(failure));
    }
  }

  return (
    <main>
      <h1>Hubwire + React</h1>
      <p id="status" data-state={state}>
        {connected ? `Connected over ${connection?.transport}` : state}
        {error === undefined ? "" : ` (${error.message})`}
      </p>
      <ul id="messages">
        {messages.map((message) => (
          <li key={message.id} className={message.user === name ? "mine" : undefined}>
            <strong className="user">{message.user}</strong>: <span className="text">{message.text}</span>
          </li>
        ))}
      </ul>
      <form onSubmit={send}>
        <input id="name" placeholder="Your name" value={name} onChange={(event) => setName(event.target.value)} maxLength={32} />
        <input id="text" placeholder="Message" value={text} onChange={(event) => setText(event.target.value)} maxLength={500} style={{ flex: 1 }} />
        {/* The hub decides what a valid name or message is; the button only waits for something to send. */}
        <button type="submit" disabled={!connected || name === "" || text === ""}>
          Send
        </button>
      </form>
      <p id="problem" role="alert">
        {problem}
      </p>
    </main>
  );
}
