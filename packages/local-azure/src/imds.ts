// The instance metadata service's managed identity token endpoint, as a VM sees it at
// http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=...
// https://learn.microsoft.com/entra/identity/managed-identities-azure-resources/how-to-use-vm-token#get-a-token-using-http
//
// Who asks decides whose token it is: IMDS answers the VM the request comes from, so the caller
// passes the VM (a guest's network, or an endpoint made for one VM). What IMDS refuses, it refuses
// here with its own error bodies (same page, "Error handling"): no `Metadata: true` header, a
// request carrying X-Forwarded-For (IMDS is not to be reached through a proxy), no api-version, no
// resource, a VM without a system-assigned identity.
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Entra } from "./entra.ts";
import { systemPrincipalId } from "./providers/managed-identity.ts";
import type { StoredResource } from "./world.ts";

export const IMDS_TOKEN_PATH = "/metadata/identity/oauth2/token";

export interface ImdsReply {
  status: number;
  body: Record<string, unknown>;
}

function invalid(description: string, status = 400, error = "invalid_request"): ImdsReply {
  return { status, body: { error, error_description: description } };
}

/** Answers one IMDS request from `vm` (undefined: the VM no longer exists). */
export async function imdsToken(
  entra: Entra,
  vm: StoredResource | undefined,
  method: string,
  url: URL,
  headers: IncomingMessage["headers"],
): Promise<ImdsReply> {
  if (url.pathname !== IMDS_TOKEN_PATH) return { status: 404, body: { error: "Not found" } };
  if (method !== "GET" && method !== "POST") return invalid("The request method is not supported.", 405);
  if (headers["x-forwarded-for"] !== undefined)
    return invalid("Request not allowed through a proxy: X-Forwarded-For is set.");
  if (String(headers.metadata ?? "").toLowerCase() !== "true")
    return invalid("Required metadata header not specified");
  if (!url.searchParams.get("api-version"))
    return invalid("Required query variable 'api-version' is missing");
  const resource = url.searchParams.get("resource");
  if (!resource) return invalid("Required audience parameter not specified");
  const principalId = vm ? systemPrincipalId(vm) : undefined;
  // A user-assigned identity (client_id / object_id / msi_res_id) is not modelled: only the system one.
  if (!vm || !principalId || url.searchParams.has("client_id") || url.searchParams.has("object_id"))
    return invalid("Identity not found");
  const audience = resource.replace(/\/$/, "");
  const t = await entra.issueManagedIdentityToken(principalId, vm.id, audience);
  // IMDS sends the numbers as strings.
  return {
    status: 200,
    body: {
      access_token: t.token,
      client_id: principalId,
      expires_in: String(t.lifetime),
      expires_on: String(t.expiresOn),
      ext_expires_in: String(t.lifetime),
      not_before: String(t.notBefore),
      resource,
      token_type: "Bearer",
    },
  };
}

/**
 * A plain-HTTP IMDS listener answering as whichever VM `vmFor` names for a connection's peer.
 * With `peer`, a connection from any other address is dropped before a byte is read (a guest's
 * link: only that guest reaches its VM's metadata service).
 */
export async function serveImds(
  entra: Entra,
  host: string,
  port: number,
  vmFor: (remoteAddress: string | undefined) => StoredResource | undefined,
  options: { peer?: string; onRequest?: (status: number) => void } = {},
): Promise<{ server: Server; url: string }> {
  const { peer, onRequest } = options;
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://169.254.169.254");
    void imdsToken(entra, vmFor(req.socket.remoteAddress), req.method ?? "GET", url, req.headers).then(
      (reply) => {
        onRequest?.(reply.status);
        const text = JSON.stringify(reply.body);
        res.writeHead(reply.status, {
          "content-type": "application/json; charset=utf-8",
          "content-length": String(Buffer.byteLength(text)),
        });
        res.end(text);
      },
      (err: unknown) => {
        res.writeHead(500);
        res.end(String(err));
      },
    );
  });
  if (peer !== undefined)
    server.on("connection", (socket) => {
      if (socket.remoteAddress !== peer) socket.destroy();
    });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  return { server, url: `http://${host}:${address.port}` };
}
