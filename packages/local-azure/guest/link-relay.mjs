// link-relay.mjs LISTEN_HOST:PORT=TARGET_HOST:PORT ...: run in a guest's network namespace by the
// guest manager (src/guests/guest-manager.ts). Listens on the guest's side for what a VM reaches
// on its link (the instance metadata service, Key Vault) and carries each connection, byte for
// byte, to the host side of the guest's veth, where the host admits this guest's address only.
// Prints "ready" once every listener is up; exits when one cannot listen.
import { connect, createServer } from "node:net";

const pairs = process.argv.slice(2).map((arg) => {
  const m = /^([\d.]+):(\d+)=([\d.]+):(\d+)$/.exec(arg);
  if (!m) {
    process.stderr.write(`link-relay: not LISTEN_HOST:PORT=TARGET_HOST:PORT: ${arg}\n`);
    process.exit(2);
  }
  return { host: m[1], port: Number(m[2]), targetHost: m[3], targetPort: Number(m[4]) };
});

let pending = pairs.length;
for (const p of pairs) {
  const server = createServer((client) => {
    const upstream = connect(p.targetPort, p.targetHost);
    client.pipe(upstream).pipe(client);
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    for (const s of [client, upstream]) {
      s.on("error", close);
      s.on("close", close);
    }
  });
  server.once("error", (err) => {
    process.stderr.write(`link-relay: cannot listen on ${p.host}:${p.port}: ${err.message}\n`);
    process.exit(1);
  });
  server.listen(p.port, p.host, () => {
    pending -= 1;
    if (pending === 0) process.stdout.write("ready\n");
  });
}
