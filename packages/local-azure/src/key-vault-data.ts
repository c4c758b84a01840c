// The Key Vault data plane for secrets, at https://{vault}.vault.localhost:PORT (Azure:
// https://{vault}.vault.azure.net), API version 7.x: Set Secret, Get Secret (latest or a version),
// Get Secrets, Get Secret Versions, with Key Vault's challenge-based authentication and RBAC.
// https://learn.microsoft.com/rest/api/keyvault/secrets/set-secret/set-secret
// https://learn.microsoft.com/rest/api/keyvault/secrets/get-secret/get-secret
// https://learn.microsoft.com/rest/api/keyvault/secrets/get-secrets/get-secrets
// https://learn.microsoft.com/rest/api/keyvault/secrets/get-secret-versions/get-secret-versions
// https://learn.microsoft.com/azure/key-vault/general/authentication-requests-and-responses
import type { JWTPayload } from "jose";
import type { Arm, Reply } from "./arm.ts";
import { ArmError } from "./arm-error.ts";
import { obj, readTags } from "./providers/common.ts";
import {
  addSecretVersion,
  findVault,
  type SecretVersion,
  secretVersions,
  VAULT_DNS_SUFFIX,
  vaultUri,
} from "./providers/key-vault.ts";
import { dataActionAllowed } from "./providers/role-assignments.ts";
import type { StoredResource } from "./world.ts";

/** The audience of Key Vault tokens (scope `https://vault.azure.net/.default`). */
export const KEY_VAULT_AUDIENCE = "https://vault.azure.net";

const HOST = new RegExp(`^([a-z0-9-]+)\\.${VAULT_DNS_SUFFIX.replace(/\./g, "\\.")}(?::\\d+)?$`, "i");

/** The vault a Host header names, or undefined when the request is not for a vault. */
export function vaultHost(host: string | undefined): string | undefined {
  return host ? HOST.exec(host)?.[1] : undefined;
}

// Get Secrets / Get Secret Versions: "maxresults: Maximum number of results to return in a page.
// If not specified the service will return up to 25 results."
const MAX_RESULTS = 25;

const GET_SECRET = "Microsoft.KeyVault/vaults/secrets/getSecret/action";
const SET_SECRET = "Microsoft.KeyVault/vaults/secrets/setSecret/action";
const READ_METADATA = "Microsoft.KeyVault/vaults/secrets/readMetadata/action";

export interface DataRequest {
  method: string;
  vault: string;
  pathname: string;
  query: URLSearchParams;
  body: string;
  authorization: string | undefined;
}

export interface DataOutcome {
  reply: Reply;
  operation: string;
  /** The data action decided on (for the request log). */
  action: string;
  scope: string;
}

/** Key Vault's error body `{error:{code,message,innererror?}}`. */
function kvError(status: number, code: string, message: string, inner?: string): ArmError {
  const err = new ArmError(status, code, message);
  if (inner) Object.assign(err, { inner });
  return err;
}

function errorReply(err: ArmError, headers: Record<string, string> = {}): Reply {
  const inner = (err as ArmError & { inner?: string }).inner;
  return {
    status: err.status,
    headers,
    body: {
      error: { code: err.code, message: err.message, ...(inner ? { innererror: { code: inner } } : {}) },
    },
  };
}

export class KeyVaultData {
  constructor(
    private readonly arm: Arm,
    /** Entra's authority host; a challenge names `{host}/{tenant}`. */
    private readonly authorityHost: () => string,
    private readonly verify: (authorization: string | undefined, audience: string) => Promise<JWTPayload>,
  ) {}

  /**
   * What the SDKs' challenge policy reads: where to get a token, and for which resource. The
   * authority is the vault's own tenant (`properties.tenantId`), which the SDK passes on to the
   * credential as `tenantId`.
   */
  private challenge(vault: StoredResource): Record<string, string> {
    return {
      "www-authenticate": `Bearer authorization="${this.authorityHost()}/${String(vault.properties.tenantId)}", resource="${KEY_VAULT_AUDIENCE}"`,
    };
  }

  async handle(req: DataRequest): Promise<DataOutcome> {
    const parts = req.pathname.split("/").filter(Boolean).map(decodeURIComponent);
    const route = this.route(req.method, parts);
    const out: DataOutcome = {
      reply: { status: 0 },
      operation: route.operation,
      action: route.action,
      scope: "",
    };
    try {
      if (!req.query.get("api-version")) {
        throw kvError(400, "BadParameter", "The 'api-version' query parameter is required.");
      }
      const vault = this.arm.ofType("Microsoft.KeyVault/vaults").length
        ? findVault(this.arm, req.vault)
        : undefined;
      if (!vault) {
        // No such vault: Azure has no DNS name for it at all.
        throw kvError(404, "VaultNotFound", `The vault '${req.vault}' does not exist.`);
      }
      let claims: JWTPayload;
      try {
        claims = await this.verify(req.authorization, KEY_VAULT_AUDIENCE);
      } catch (err) {
        if (!(err instanceof ArmError)) throw err;
        const message = req.authorization
          ? `AKV10022: Invalid audience or token. ${err.message}`
          : "AKV10000: Request is missing a Bearer or PoP token.";
        out.reply = errorReply(kvError(401, "Unauthorized", message), this.challenge(vault));
        return out;
      }
      // A vault takes tokens of its own tenant only: another tenant's token is refused with
      // AKV10032 (seen by clients of vaults in another tenant: Azure/azure-sdk-for-js#6221,
      // Azure/azure-cli#11871; the real list of expected issuers is longer).
      const tenant = String(vault.properties.tenantId);
      if (String(claims.tid).toLowerCase() !== tenant.toLowerCase()) {
        const message = `AKV10032: Invalid issuer. Expected one of https://sts.windows.net/${tenant}/, found https://sts.windows.net/${String(claims.tid)}/.`;
        out.reply = errorReply(kvError(401, "Unauthorized", message), this.challenge(vault));
        return out;
      }
      out.scope = route.secret ? `${vault.id}/secrets/${route.secret}` : vault.id;
      this.authorize(vault, claims, route.action, out.scope);
      out.reply = this.execute(vault, route, req);
    } catch (err) {
      if (!(err instanceof ArmError)) throw err;
      out.reply = errorReply(err);
    }
    return out;
  }

  private route(
    method: string,
    parts: string[],
  ): {
    kind: "set" | "get" | "list" | "versions" | "none";
    operation: string;
    action: string;
    secret?: string;
    version?: string;
  } {
    const m = method.toUpperCase();
    if (parts[0]?.toLowerCase() !== "secrets")
      return { kind: "none", operation: "keyVault.unknown", action: "" };
    const name = parts[1];
    if (parts.length === 1 && m === "GET")
      return { kind: "list", operation: "keyVault.getSecrets", action: READ_METADATA };
    if (name && parts.length === 2 && m === "PUT")
      return { kind: "set", operation: "keyVault.setSecret", action: SET_SECRET, secret: name };
    if (name && parts.length === 3 && parts[2]!.toLowerCase() === "versions" && m === "GET")
      return {
        kind: "versions",
        operation: "keyVault.getSecretVersions",
        action: READ_METADATA,
        secret: name,
      };
    if (name && (parts.length === 2 || parts.length === 3) && m === "GET") {
      const version = parts[2] || undefined;
      return {
        kind: "get",
        operation: "keyVault.getSecret",
        action: GET_SECRET,
        secret: name,
        ...(version ? { version } : {}),
      };
    }
    return { kind: "none", operation: "keyVault.unknown", action: "" };
  }

  /** RBAC vaults decide by role assignment; an access-policy vault here grants nothing. */
  private authorize(vault: StoredResource, claims: JWTPayload, action: string, scope: string): void {
    const oid = String(claims.oid ?? "");
    const caller = `appid=${String(claims.appid ?? "")};oid=${oid};iss=${String(claims.iss ?? "")}`;
    if (vault.properties.enableRbacAuthorization !== true) {
      // Access-policy vaults answer with AccessDenied; this stand-in keeps no access policies.
      throw kvError(
        403,
        "Forbidden",
        `The user, group or application '${caller}' does not have secrets permission on key vault '${vault.name};location=${vault.location}'. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125287`,
        "AccessDenied",
      );
    }
    if (action === "" || dataActionAllowed(this.arm, oid, action, scope)) return;
    // The message Key Vault sends for an RBAC denial (fields as seen in the service's answers, e.g.
    // hashicorp/terraform-provider-azurerm#27817), inner code ForbiddenByRbac.
    throw kvError(
      403,
      "Forbidden",
      [
        "Caller is not authorized to perform action on resource.",
        "If role assignments, deny assignments or role definitions were changed recently, please observe propagation time.",
        `Caller: ${caller}`,
        `Action: '${action}'`,
        `Resource: '${scope.toLowerCase()}'`,
        "Assignment: (not found)",
        "DenyAssignmentId: null",
        "DecisionReason: 'DeniedWithNoValidRBAC' ",
        `Vault: ${vault.name};location=${vault.location}`,
        "",
      ].join("\r\n"),
      "ForbiddenByRbac",
    );
  }

  private execute(vault: StoredResource, route: ReturnType<KeyVaultData["route"]>, req: DataRequest): Reply {
    const base = vaultUri(this.arm, vault.name).replace(/\/$/, "");
    const secretRecord = route.secret ? this.arm.find(`${vault.id}/secrets/${route.secret}`) : undefined;
    const notFound = (what: string) =>
      kvError(
        404,
        "SecretNotFound",
        `A secret with (name/id) ${what} was not found in this key vault. If you recently deleted this secret you may be able to recover it using the correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182`,
      );
    switch (route.kind) {
      case "set": {
        let body: Record<string, unknown> | undefined;
        try {
          body = obj(JSON.parse(req.body || "null"));
        } catch {
          body = undefined;
        }
        if (typeof body?.value !== "string")
          throw kvError(400, "BadParameter", "Property 'value' is required.");
        const attributes = obj(body.attributes);
        const tags = readTags(body);
        const { version } = addSecretVersion(this.arm, vault, route.secret!, {
          value: body.value,
          ...(typeof body.contentType === "string" ? { contentType: body.contentType } : {}),
          ...(tags ? { tags } : {}),
          ...(typeof attributes?.enabled === "boolean" ? { enabled: attributes.enabled } : {}),
        });
        return { status: 200, body: bundle(base, route.secret!, version, true) };
      }
      case "get": {
        const versions = secretRecord ? secretVersions(secretRecord) : [];
        const v = route.version
          ? versions.find((x) => x.version === route.version?.toLowerCase())
          : versions[versions.length - 1];
        if (!v) throw notFound(route.version ? `${route.secret}/${route.version}` : route.secret!);
        // A disabled version cannot be read: "Operation get is not allowed on a disabled secret."
        if (!v.enabled)
          throw kvError(
            403,
            "Forbidden",
            "Operation get is not allowed on a disabled secret.",
            "SecretDisabled",
          );
        return { status: 200, body: bundle(base, secretRecord!.name, v, true) };
      }
      case "versions": {
        if (!secretRecord) throw notFound(route.secret!);
        const items = secretVersions(secretRecord).map((v) => bundle(base, secretRecord.name, v, false));
        return { status: 200, body: this.page(items, req, base) };
      }
      case "list": {
        const secrets = this.arm.children(vault.id, "Microsoft.KeyVault/vaults/secrets");
        const items = secrets.map((s) => {
          const versions = secretVersions(s);
          const latest = versions[versions.length - 1]!;
          const item = bundle(base, s.name, latest, false);
          item.id = `${base}/secrets/${s.name}`;
          return item;
        });
        return { status: 200, body: this.page(items, req, base) };
      }
      default:
        throw kvError(400, "BadParameter", `The request URI '${req.pathname}' is not valid.`);
    }
  }

  private page(items: Record<string, unknown>[], req: DataRequest, base: string): Record<string, unknown> {
    const requested = Number.parseInt(req.query.get("maxresults") ?? "", 10);
    if (req.query.has("maxresults") && (!(requested >= 1) || requested > MAX_RESULTS)) {
      throw kvError(400, "BadParameter", `maxresults must be between 1 and ${MAX_RESULTS}.`);
    }
    const size = requested >= 1 ? requested : MAX_RESULTS;
    const skip = Number.parseInt(req.query.get("$skiptoken") ?? "0", 10) || 0;
    const value = items.slice(skip, skip + size);
    if (skip + size >= items.length) return { value, nextLink: null };
    const next = new URLSearchParams(req.query);
    next.set("$skiptoken", String(skip + size));
    return { value, nextLink: `${base}${req.pathname}?${next.toString()}` };
  }
}

/** A SecretBundle (with value) or SecretItem (without), as Key Vault shapes them. */
function bundle(base: string, name: string, v: SecretVersion, withValue: boolean): Record<string, unknown> {
  return {
    ...(withValue ? { value: v.value } : {}),
    id: `${base}/secrets/${name}/${v.version}`,
    ...(v.contentType !== undefined ? { contentType: v.contentType } : {}),
    attributes: {
      enabled: v.enabled,
      created: v.created,
      updated: v.updated,
      recoveryLevel: "Recoverable+Purgeable",
      recoverableDays: 90,
    },
    ...(v.tags !== undefined ? { tags: v.tags } : {}),
  };
}
