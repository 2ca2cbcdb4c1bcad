/**
 * `useHub`: one `@hubwire/client` connection for the life of a component, its state as React
 * state. Handlers are registered in `setup`, before the connection starts, so that nothing the
 * hub sends on connect is missed.
 *
 * @example
 * ```tsx
 * const { connection, state } = useHub<Chat>("/chat", (hub) => {
 *   hub.on("receive", (message) => setMessages((list) => [...list, message]));
 * });
 * // later: await connection?.invoke("send", name, text);
 * ```
 */
import { HubConnection, type HubConnectionOptions, type HubConnectionState, type HubContract } from "@hubwire/client";
import { useEffect, useRef, useState } from "react";

export interface HubState<TContract extends HubContract> {
  /** Undefined until the component has mounted. */
  readonly connection: HubConnection<TContract> | undefined;
  readonly state: HubConnectionState;
  /** Why the connection failed to start or closed, if it did. */
  readonly error: Error | undefined;
}

/**
 * Connects to the hub at `url` while the component is mounted (a new `url` means a new
 * connection). `setup` and `options` are read when the connection is created; reconnecting is on
 * unless `options.reconnect` says otherwise.
 */
export function useHub<TContract extends HubContract>(
  url: string,
  setup: (connection: HubConnection<TContract>) => void,
  options: HubConnectionOptions = {},
): HubState<TContract> {
  const [connection, setConnection] = useState<HubConnection<TContract>>();
  const [state, setState] = useState<HubConnectionState>("Disconnected");
  const [error, setError] = useState<Error>();
  // Read when a connection is created, not a reason to create one: inline handlers and options
  // are new objects on every render. Kept current by an effect that runs before the one below.
  const created = useRef({ setup, options });
  useEffect(() => {
    created.current = { setup, options };
  });

  useEffect(() => {
    const hub = new HubConnection<TContract>(url, { reconnect: true, ...created.current.options });
    created.current.setup(hub);
    // False once this effect is cleaned up (unmount, a new url, StrictMode's rehearsal): a late
    // event of this connection must not overwrite the state of the next one.
    let current = true;
    const show = () => current && setState(hub.state);
    hub.onReconnecting(show);
    hub.onReconnected(show);
    hub.onClose((reason) => {
      if (!current) return;
      setState("Disconnected");
      setError(reason);
    });
    setConnection(hub);
    setState("Connecting");
    setError(undefined);
    hub.start().then(
      () => {
        // stop() while start() is still negotiating does not cancel it (hub-connection.ts): a
        // connection cleaned up meanwhile would stay open, so stop it now that it is up.
        if (!current) return void hub.stop();
        show();
      },
      (reason: unknown) => {
        if (!current) return;
        setState("Disconnected");
        setError(reason instanceof Error ? reason : new Error(String(reason)));
      },
    );
    return () => {
      current = false;
      void hub.stop();
    };
  }, [url]);

  return { connection, state, error };
}
