/**
 * Plain HTTP from inside a container (pure parts): a bash /dev/tcp request, so any node can be
 * the client without curl, and the parser of the raw answer. The security drill and the probes of
 * the app nodes' own port (allowed only from the LBs and the monitor) use it through `pct exec`.
 */

export interface RawHttpReply {
  status: number;
  headers: Record<string, string>;
  body: string;
}

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;
const PATH = /^\/[A-Za-z0-9._~\/?=&%-]*$/;
const HEADER_NAME = /^[A-Za-z0-9-]+$/;

export interface RawHttpRequest {
  ip: string;
  port: number;
  method: "GET" | "POST";
  path: string;
  headers?: Record<string, string>;
  /** Sent as is (Content-Length set); the script reads it from stdin, never from its text. */
  body?: string;
  timeoutS: number;
}

/**
 * A bash script for one HTTP/1.0 request (Connection: close) that prints the raw answer; the body
 * comes on the script's stdin after the script itself is read, so run it as `bash -c <script>`
 * with the body as stdin. Exit 7 when the connection fails, 124 on the timeout.
 */
export function renderRawHttpScript(req: RawHttpRequest): string {
  if (!IPV4.test(req.ip)) throw new Error(`raw http: not an IPv4 address (got ${req.ip})`);
  if (!Number.isInteger(req.port) || req.port < 1 || req.port > 65535) {
    throw new Error(`raw http: bad port (got ${req.port})`);
  }
  if (!PATH.test(req.path)) throw new Error(`raw http: bad path (got ${JSON.stringify(req.path)})`);
  const headers = Object.entries(req.headers ?? {});
  for (const [k, v] of headers) {
    if (!HEADER_NAME.test(k) || /[\r\n'\\]/.test(v)) {
      throw new Error(`raw http: bad header ${JSON.stringify(k)}`);
    }
  }
  const body = req.body ?? "";
  const lines = [
    `${req.method} ${req.path} HTTP/1.0`,
    `Host: ${req.ip}`,
    "Connection: close",
    ...headers.map(([k, v]) => `${k}: ${v}`),
    ...(req.method === "POST" ? [`Content-Length: ${Buffer.byteLength(body)}`] : []),
  ];
  const head = lines.map((l) => `${l}\\r\\n`).join("") + "\\r\\n";
  return [
    "set -u",
    `timeout ${req.timeoutS} bash -c '`,
    `  exec 3<>/dev/tcp/${req.ip}/${req.port} || exit 7`,
    `  printf "%b" "${head}" >&3`,
    "  cat >&3",
    "  cat <&3",
    "'",
    "",
  ].join("\n");
}

/** Status, headers (lower-case names) and body of a raw HTTP/1.x answer; status 0 if none. */
export function parseRawHttpReply(text: string): RawHttpReply {
  const split = text.indexOf("\r\n\r\n");
  const head = split >= 0 ? text.slice(0, split) : text;
  const body = split >= 0 ? text.slice(split + 4) : "";
  const [statusLine, ...headerLines] = head.split("\r\n");
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine ?? "");
  const headers: Record<string, string> = {};
  for (const line of headerLines) {
    const at = line.indexOf(":");
    if (at > 0) headers[line.slice(0, at).trim().toLowerCase()] = line.slice(at + 1).trim();
  }
  return { status: m ? Number(m[1]) : 0, headers, body };
}
