/**
 * A loopback TCP forwarder the tests steer: which port new connections go to (HAProxy moving the
 * read-write port to a new primary), cutting every session (HAProxy's shutdown-sessions), and
 * pausing the traffic without closing anything (a link that stops carrying data: whatever was in
 * flight stays in the kernel's buffers and is lost if the sender dies).
 */
import { createServer, type Server, Socket } from "node:net";

export interface TcpProxy {
  port: number;
  /** Where new connections go; existing ones stay where they are. */
  setTarget(port: number): void;
  /** Stops forwarding in both directions (connections stay open); new ones start paused. */
  pause(): void;
  resume(): void;
  /** Resets every connection on both sides. */
  cutAll(): void;
  connections(): number;
  close(): Promise<void>;
}

export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  let target = targetPort;
  let paused = false;
  const pairs = new Set<[Socket, Socket]>();

  const forward = (from: Socket, to: Socket): void => {
    from.on("data", (chunk) => {
      if (!to.write(chunk)) from.pause();
    });
    to.on("drain", () => {
      if (!paused) from.resume();
    });
  };

  const server: Server = createServer((client) => {
    const upstream = new Socket();
    const pair: [Socket, Socket] = [client, upstream];
    // As HAProxy does: without it, Nagle and delayed ACKs hold a small reply (a standby's flush
    // report, a query's answer) for ~40 ms.
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    pairs.add(pair);
    const end = (): void => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    for (const side of pair) {
      side.on("error", end);
      side.on("close", end);
    }
    forward(client, upstream);
    forward(upstream, client);
    if (paused) {
      client.pause();
      upstream.pause();
    }
    upstream.connect(target, "127.0.0.1");
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;

  const cutAll = (): void => {
    for (const pair of [...pairs]) {
      pairs.delete(pair);
      for (const side of pair) side.resetAndDestroy();
    }
  };

  return {
    port,
    setTarget(next) {
      target = next;
    },
    pause() {
      paused = true;
      for (const pair of pairs) for (const side of pair) side.pause();
    },
    resume() {
      paused = false;
      for (const pair of pairs) for (const side of pair) side.resume();
    },
    cutAll,
    connections: () => pairs.size,
    close() {
      cutAll();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
