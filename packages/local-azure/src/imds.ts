// The instance metadata service as a VM sees it at http://169.254.169.254: the managed identity
// token endpoint (/metadata/identity/oauth2/token?api-version=2018-02-01&resource=...,
// https://learn.microsoft.com/entra/identity/managed-identities-azure-resources/how-to-use-vm-token#get-a-token-using-http)
// and the instance metadata's compute part (/metadata/instance[/compute[/<key>...]], below).
//
// Who asks decides whose token it is: IMDS answers the VM the request comes from, so the caller
// passes the VM (a guest's network, or an endpoint made for one VM). What IMDS refuses, it refuses
// here with its own error bodies (same page, "Error handling"): no `Metadata: true` header, a
// request carrying X-Forwarded-For (IMDS is not to be reached through a proxy), no api-version, no
// resource, a VM without a system-assigned identity.
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Entra } from "./entra.ts";
import { obj } from "./providers/common.ts";
import { systemPrincipalId } from "./providers/managed-identity.ts";
import type { StoredResource } from "./world.ts";

export const IMDS_TOKEN_PATH = "/metadata/identity/oauth2/token";

export const IMDS_INSTANCE_PATH = "/metadata/instance";

export interface ImdsReply {
  status: number;
  body: Record<string, unknown>;
  /** A format=text answer: sent as text/plain instead of `body`. */
  text?: string;
}

function invalid(description: string, status = 400, error = "invalid_request"): ImdsReply {
  return { status, body: { error, error_description: description } };
}

/**
 * The API versions IMDS serves (https://learn.microsoft.com/azure/virtual-machines/instance-metadata-service#supported-api-versions);
 * the instance endpoint refuses any other.
 */
const INSTANCE_API_VERSIONS = new Set(
  "2025-04-07 2024-07-17 2024-03-15 2023-11-15 2023-07-01 2021-12-13 2021-11-15 2021-11-01 2021-10-01 2021-08-01 2021-05-01 2021-03-01 2021-02-01 2021-01-01 2020-12-01 2020-10-01 2020-09-01 2020-07-15 2020-06-01 2019-11-01 2019-08-15 2019-08-01 2019-06-04 2019-06-01 2019-04-30 2019-03-11 2019-02-01 2018-10-01 2018-04-02 2018-02-01 2017-12-01 2017-10-01 2017-08-01 2017-04-02 2017-03-01".split(
    " ",
  ),
);

/** What IMDS answers a missing or unknown api-version (same page, "Versioning"). */
const BAD_VERSION: ImdsReply = {
  status: 400,
  body: {
    error:
      "Bad request. api-version is invalid or was not specified in the request. For more information refer to aka.ms/azureimds",
    "newest-versions": ["2025-04-07", "2024-07-17", "2024-03-15"],
  },
};

/** Answers one IMDS request from `vm` (undefined: the VM no longer exists). */
export async function imdsRequest(
  entra: Entra,
  vm: StoredResource | undefined,
  method: string,
  url: URL,
  headers: IncomingMessage["headers"],
): Promise<ImdsReply> {
  const instance = url.pathname === IMDS_INSTANCE_PATH || url.pathname.startsWith(`${IMDS_INSTANCE_PATH}/`);
  return instance ? imdsInstance(vm, method, url, headers) : imdsToken(entra, vm, method, url, headers);
}

/**
 * The instance metadata of `vm`, filtered by route parameters
 * (https://learn.microsoft.com/azure/virtual-machines/instance-metadata-service#route-parameters):
 * `/metadata/instance/compute/vmSize?api-version=...&format=text` answers the size as text. Only
 * the `compute` part is modelled, with the fields a claw reads and their documented names, every
 * value a string ("missing or inapplicable values are always included but set to an empty
 * string"); `network` is not (404). A leaf asked for as JSON is refused ("format=text needs to
 * be explicitly specified"; the wording of that 400 is the stand-in's), as is a duplicated query
 * parameter.
 */
function imdsInstance(
  vm: StoredResource | undefined,
  method: string,
  url: URL,
  headers: IncomingMessage["headers"],
): ImdsReply {
  const refused = refusedRequest(method, headers);
  if (refused) return refused;
  const names = [...url.searchParams.keys()];
  if (new Set(names).size !== names.length) return badRequest("Bad request. Duplicate query parameters.");
  const version = url.searchParams.get("api-version");
  if (!version || !INSTANCE_API_VERSIONS.has(version)) return BAD_VERSION;
  const format = url.searchParams.get("format") ?? "json";
  if (format !== "json" && format !== "text")
    return badRequest(`Bad request. Unsupported format '${format}'.`);
  if (!vm) return { status: 404, body: { error: "Not found" } };
  let node: unknown = { compute: computeMetadata(vm) };
  for (const key of url.pathname.slice(IMDS_INSTANCE_PATH.length).split("/").filter(Boolean)) {
    node = Array.isArray(node) ? (/^\d+$/.test(key) ? node[Number(key)] : undefined) : obj(node)?.[key];
    if (node === undefined) return { status: 404, body: { error: "Not found" } };
  }
  const leaf = typeof node === "string";
  if (format === "json") {
    if (leaf) return badRequest("Bad request. Leaf nodes support only format=text.");
    return { status: 200, body: node as Record<string, unknown> };
  }
  if (leaf) return { status: 200, body: {}, text: node as string };
  // A node as text: its keys (array indexes), a line each, "/" after those that are not leaves.
  const entries = Object.entries(node as Record<string, unknown>);
  return {
    status: 200,
    body: {},
    text: entries.map(([k, v]) => (typeof v === "string" ? k : `${k}/`)).join("\n"),
  };
}

function badRequest(error: string): ImdsReply {
  return { status: 400, body: { error } };
}

/** What IMDS refuses of any request: another verb, a proxy, no `Metadata: true` header. */
function refusedRequest(
  method: string,
  headers: IncomingMessage["headers"],
  methods = ["GET"],
): ImdsReply | undefined {
  if (!methods.includes(method)) return invalid("The request method is not supported.", 405);
  if (headers["x-forwarded-for"] !== undefined)
    return invalid("Request not allowed through a proxy: X-Forwarded-For is set.");
  if (String(headers.metadata ?? "").toLowerCase() !== "true")
    return invalid("Required metadata header not specified");
  return undefined;
}

/** The documented compute fields of a VM (all strings; tags as "k:v;k2:v2" and as tagsList). */
function computeMetadata(vm: StoredResource): Record<string, unknown> {
  const p = vm.properties;
  const str = (v: unknown) => (v === undefined || v === null ? "" : String(v));
  const os = obj(p.osProfile) ?? {};
  const [, subscriptionId = "", , resourceGroupName = ""] = vm.id.split("/").filter(Boolean);
  const tags = vm.tags ?? {};
  return {
    azEnvironment: "AzurePublicCloud",
    location: str(vm.location),
    name: vm.name,
    osProfile: {
      adminUsername: str(os.adminUsername),
      computerName: str(os.computerName),
      disablePasswordAuthentication: str(
        obj(os.linuxConfiguration)?.disablePasswordAuthentication ?? "false",
      ),
    },
    osType: "Linux",
    provider: "Microsoft.Compute",
    resourceGroupName,
    resourceId: vm.id,
    subscriptionId,
    tags: Object.entries(tags)
      .map(([k, v]) => `${k}:${v}`)
      .join(";"),
    tagsList: Object.entries(tags).map(([name, value]) => ({ name, value })),
    vmId: str(p.vmId),
    vmSize: str(obj(p.hardwareProfile)?.vmSize),
    zone: Array.isArray(vm.zones) ? str(vm.zones[0]) : "",
  };
}

/** Answers one token request from `vm` (undefined: the VM no longer exists). */
export async function imdsToken(
  entra: Entra,
  vm: StoredResource | undefined,
  method: string,
  url: URL,
  headers: IncomingMessage["headers"],
): Promise<ImdsReply> {
  if (url.pathname !== IMDS_TOKEN_PATH) return { status: 404, body: { error: "Not found" } };
  const refused = refusedRequest(method, headers, ["GET", "POST"]);
  if (refused) return refused;
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
    void imdsRequest(entra, vmFor(req.socket.remoteAddress), req.method ?? "GET", url, req.headers).then(
      (reply) => {
        onRequest?.(reply.status);
        const text = reply.text ?? JSON.stringify(reply.body);
        res.writeHead(reply.status, {
          "content-type": `${reply.text === undefined ? "application/json" : "text/plain"}; charset=utf-8`,
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
