/** The bench hub's four events on socket.io, with an acknowledgement for the echo; the same on Node and on Bun. */
import type { Server } from "socket.io";

export function handleBenchEvents(io: Server): void {
  io.on("connection", (socket) => {
    socket.on("echo", (payload: string, ack: (payload: string) => void) => ack(payload));
    socket.on("broadcast", (payload: string) => io.emit("message", payload));
    socket.on("join", (group: string, ack: () => void) => {
      void socket.join(group);
      ack();
    });
    socket.on("relay", (group: string, payload: string) => io.to(group).emit("message", payload));
  });
}
