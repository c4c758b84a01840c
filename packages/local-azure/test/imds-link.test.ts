// The metadata service on a guest's link (src/guests/guest-manager.ts): its listener admits the
// guest's own address only, so no other guest (or host process) can ask it for that VM's token.
import { request } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import type { Entra } from "../src/entra.ts";
import { serveImds } from "../src/imds.ts";

const PATH = "/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://vault.azure.net";

/** GET from this host (127.0.0.1): the status, or the error when the connection is dropped. */
function get(url: string): Promise<number | string> {
  return new Promise((resolve) => {
    const req = request(`${url}${PATH}`, { headers: { Metadata: "true" } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("error", (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    req.end();
  });
}

describe("the metadata service on a guest's link", () => {
  const servers: { close(): void }[] = [];
  afterEach(() => {
    for (const s of servers.splice(0)) s.close();
  });
  // No VM behind it: an admitted request is answered (400 "Identity not found") without a token.
  const serve = async (peer: string) => {
    const { server, url } = await serveImds({} as Entra, "127.0.0.1", 0, () => undefined, { peer });
    servers.push(server);
    return url;
  };

  it("answers its guest's address and drops a connection from any other", async () => {
    expect(await get(await serve("127.0.0.1"))).toBe(400);
    expect(await get(await serve("127.0.0.2"))).toBe("ECONNRESET");
  });
});
