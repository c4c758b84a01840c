// Turning what Azure (ARM, Entra ID) and the GitHub OIDC endpoint answer into messages that
// say what to fix. Nothing here swallows an error: callers rethrow with the description.
import { EntraTokenError } from "@openclawps/action-kit/entra-token";
import { IdTokenUnavailableError } from "@openclawps/action-kit/github-oidc";
import { READER_ACTIONS } from "./arm-actions.ts";

/** Name of the custom role infra/azure defines with exactly the actions this package calls (see README). */
export const FLEET_ROLE_NAME = "openclawps fleet operator";
export const FLEET_ROLE_FILE = "infra/azure/fleet-operator-role.json";
/** The un-gated identity's role (READER_ACTIONS): plan, drift, verify's lookups, bake. */
export const READER_ROLE_NAME = "openclawps fleet reader";
/** The power schedule's role (POWER_ACTIONS): park and resume outside rollouts. */
export const POWER_ROLE_NAME = "openclawps fleet power";
export const READER_ROLE_FILE = "infra/azure/fleet-reader-role.json";
/** The operator's role on the subscription (SIZE_READER_ACTIONS): apply's VM size check. */
export const SIZE_READER_ROLE_NAME = "openclawps fleet size reader";

// The runner gave the job no OIDC token endpoint: the workflow lacks `id-token: write`.
export { IdTokenUnavailableError };

export interface ErrorHints {
  /** App registration (client) id, to name it in fixes. */
  clientId?: string;
  /** Subscription and tenant the run uses, to name them in fixes. */
  subscriptionId?: string;
  tenantId?: string;
}

interface ErrorFacts {
  code?: string;
  statusCode?: number;
  message: string;
}

/** The ARM / Entra error code of an error, when it has one. */
export function azureErrorCode(err: unknown): string | undefined {
  return facts(err).code;
}

/**
 * True for ARM's "it does not exist" answers (ResourceNotFound, ResourceGroupNotFound,
 * ParentResourceNotFound, ...). A 404 with another code (InvalidResourceType: a route ARM does
 * not know) is not "missing": it must surface.
 */
export function isNotFound(err: unknown): boolean {
  const f = facts(err);
  // SubscriptionNotFound is a wrong subscription id (or one the app cannot see), never an empty
  // fleet: read as "nothing exists", it gave a green plan that would create the fleet anew.
  if (f.code === "SubscriptionNotFound") return false;
  return f.code ? /NotFound$/.test(f.code) : f.statusCode === 404;
}

function facts(err: unknown): ErrorFacts {
  if (!(err instanceof Error)) return { message: String(err) };
  // Entra's answer to the token exchange: its AADSTS code (error_codes) and description.
  if (err instanceof EntraTokenError) {
    return { code: err.code, statusCode: err.statusCode, message: err.description || err.message };
  }
  const e = err as Error & { code?: unknown; statusCode?: unknown };
  const statusCode = typeof e.statusCode === "number" ? e.statusCode : undefined;
  // An AADSTS code in another client's error text (@azure/identity's, in tests and tools).
  const aadsts = /\b(AADSTS\d+)\b/.exec(e.message)?.[1];
  if (aadsts) return { code: aadsts, statusCode, message: e.message };
  // A failed long-running operation is a plain Error: "The long-running operation has failed. {code}. {message}"
  // (@azure/core-lro poller/operation.js).
  const lro = /^The long-running operation has failed\. ([^.\s]+)\. ([\s\S]*)$/.exec(e.message);
  if (lro) return { code: lro[1], statusCode, message: lro[2] ?? e.message };
  const code = typeof e.code === "string" ? e.code : undefined;
  return { code, statusCode, message: e.message };
}

/**
 * One user-facing paragraph for an error from any ARM or token call: what went wrong and what to
 * change. Unknown errors keep their code and message (never dropped).
 */
export function describeAzureError(err: unknown, hints: ErrorHints = {}): string {
  if (err instanceof IdTokenUnavailableError) return err.message;
  const f = facts(err);
  const app = hints.clientId
    ? `app registration ${hints.clientId}`
    : "the app registration (AZURE_CLIENT_ID)";
  const appId = hints.clientId ?? "<AZURE_CLIENT_ID>";

  if (/ACTIONS_ID_TOKEN_REQUEST_URL|ACTIONS_ID_TOKEN_REQUEST_TOKEN/.test(f.message)) {
    return new IdTokenUnavailableError().message;
  }

  switch (f.code) {
    case "AADSTS70021":
    case "AADSTS700213": {
      // Entra's answer for a GitHub token whose subject no federated credential of the app has:
      // "AADSTS700213: No matching federated identity record found for presented assertion subject
      // 'repo:...'. Check your federated identity credential Subject, Audience and Issuer against
      // the presented assertion." (e.g. github.com/Azure/login/issues/482), formerly
      // "AADSTS70021: No matching federated identity record found for presented assertion.
      // Assertion Issuer: '...'. Assertion Subject: '...'. Assertion Audience: '...'."
      // https://learn.microsoft.com/entra/workload-id/workload-identity-federation-create-trust#github-actions
      const subject = assertionSubject(f.message);
      const issuer =
        /Assertion Issuer: '([^']*)'/.exec(f.message)?.[1] ?? "https://token.actions.githubusercontent.com";
      const audience = /Assertion Audience: '([^']*)'/.exec(f.message)?.[1];
      const presented = subject
        ? `subject '${subject}' (issuer '${issuer}'${audience ? `, audience '${audience}'` : ""})`
        : "this job's token";
      return (
        `Microsoft Entra ID found no federated credential on ${app} that matches ${presented} (${f.code}). ` +
        "The subject depends on how the job runs: `repo:OWNER/REPO:environment:NAME` when the job has an environment, " +
        "`repo:OWNER/REPO:ref:refs/heads/BRANCH` for a branch, `repo:OWNER/REPO:pull_request` for pull requests. " +
        federationAdvice(subject, issuer, appId)
      );
    }
    case "AADSTS7002138": {
      // "No matching federated identity record found for presented assertion subject '...'. The
      // subject matches with case-insensitive comparison, but not with case-sensitive comparison."
      // Federated credentials match case-sensitively since 2024:
      // https://learn.microsoft.com/entra/identity-platform/reference-breaking-changes (github.com/Azure/login/issues/515)
      const subject = assertionSubject(f.message) ?? "the subject this job presents";
      return (
        `A federated credential on ${app} matches this job's subject '${subject}' only when letter case is ignored (AADSTS7002138), ` +
        "and Microsoft Entra ID compares subjects case-sensitively. " +
        `Change that credential's subject to exactly '${subject}' (az ad app federated-credential list --id ${appId} shows it), ` +
        "or re-run infra/azure/bootstrap-oidc.sh with --repo spelled as GitHub spells the repository."
      );
    }
    case "AADSTS700016":
      return `Microsoft Entra ID has no application ${appId} in this tenant (AADSTS700016). Check the azure-client-id and azure-tenant-id inputs (AZURE_CLIENT_ID / AZURE_TENANT_ID secrets).`;
    case "AADSTS90002":
    case "AADSTS900023":
      return `Microsoft Entra ID does not know the tenant (${f.code}). Check the azure-tenant-id input (AZURE_TENANT_ID secret).`;
    case "AADSTS700024":
      return "Microsoft Entra ID refused the GitHub token as expired or not yet valid (AADSTS700024). Check the runner's clock; the token is requested fresh for every Azure token.";
    case "AADSTS700211":
    case "AADSTS700212":
      // "... for presented assertion issuer '...'" / "... audience '...'" (github.com/Azure/login/issues/360)
      return `Microsoft Entra ID found no federated credential on ${app} for this token's issuer or audience (${f.code}): the issuer must be https://token.actions.githubusercontent.com and the audience api://AzureADTokenExchange. ${firstLine(f.message)}`;
    case "AuthorizationFailed":
    case "LinkedAuthorizationFailed": {
      // "The client '...' with object id '...' does not have authorization to perform action
      // 'Microsoft.Compute/virtualMachines/write' over scope '/subscriptions/.../...' or the scope is invalid."
      // https://learn.microsoft.com/azure/role-based-access-control/troubleshooting#symptom---authorization-failed
      const action = /perform action '([^']+)'/.exec(f.message)?.[1];
      const scope = /over scope '([^']+)'/.exec(f.message)?.[1];
      const rgScope = scope
        ? (/^(\/subscriptions\/[^/]+\/resourceGroups\/[^/]+)/i.exec(scope)?.[1] ?? scope)
        : undefined;
      return (
        `Azure denied ${action ? `'${action}'` : "an operation"}${scope ? ` on '${scope}'` : ""} to ${app} (403 ${f.code}). ` +
        `Assign it the '${FLEET_ROLE_NAME}' role (${FLEET_ROLE_FILE}, which lists every action deploy-fleet calls) ` +
        `on ${rgScope ? `'${rgScope}'` : "the fleet's resource group"}: ` +
        `az role assignment create --assignee ${appId} --role '${FLEET_ROLE_NAME}' --scope ${rgScope ?? "/subscriptions/SUB/resourceGroups/RG"}. ` +
        "Role assignments can take a few minutes to apply." +
        (action && !(READER_ACTIONS as readonly string[]).includes(action)
          ? ` If ${app} is the fleet's reader identity ('${READER_ROLE_NAME}', for plan, drift, verify and bake), do not widen it: ` +
            "this step changes the fleet, so it runs as the operator identity (AZURE_CLIENT_ID) in the production environment, behind its approval."
          : "")
      );
    }
    case "InvalidAuthenticationToken":
    case "InvalidAuthenticationTokenAudience":
    case "ExpiredAuthenticationToken":
      return `Azure Resource Manager refused the access token (${f.code}): ${firstLine(f.message)} Check azure-arm-endpoint and azure-tenant-id belong to the same cloud.`;
    case "SubscriptionNotFound":
    case "InvalidSubscriptionId": {
      // ARM answers 404 SubscriptionNotFound "The subscription '<id>' could not be found." both for
      // an id that does not exist and for one in another tenant than the token's.
      const sub =
        hints.subscriptionId ??
        /subscription '([^']+)'/i.exec(f.message)?.[1] ??
        "given in azure-subscription-id";
      const tenant = hints.tenantId ? ` ${hints.tenantId}` : " of azure-tenant-id";
      return (
        `The subscription id ${sub} does not exist in tenant${tenant} or ${app} has no access to it (${f.code}). ` +
        "Fix: set the AZURE_SUBSCRIPTION_ID secret (azure-subscription-id input) to the id `az account show --query id -o tsv` prints for the fleet's subscription, " +
        `check AZURE_TENANT_ID is that subscription's tenant (az account show --query tenantId), and give ${app} a role on the fleet's resource group in it ` +
        "(infra/azure/bootstrap-oidc.sh does both)."
      );
    }
    case "ResourceGroupNotFound":
      return `The resource group does not exist (ResourceGroupNotFound): ${firstLine(f.message)} deploy-fleet creates it in apply mode; other actions need a deployed fleet.`;
    case "ResourceNotFound":
    case "NotFound":
      return `Azure has no such resource (${f.code}): ${firstLine(f.message)}`;
    case "GalleryImageNotFound":
    case "ImageVersionNotFound":
    case "GalleryImageVersionNotFound":
      return `The gallery image or version does not exist (${f.code}): ${firstLine(f.message)} Bake the image first (bake action) or pin a version the gallery has.`;
    case "QuotaExceeded":
    case "OperationNotAllowed":
      if (/quota/i.test(f.message)) {
        return `Azure quota exceeded (${f.code}): ${firstLine(f.message)} Request a quota increase for the VM family in this region, or choose another vm_size.`;
      }
      break;
    case "SkuNotAvailable":
    case "ZonalAllocationFailed":
    case "AllocationFailed":
      return `Azure cannot place this VM size here right now (${f.code}): ${firstLine(f.message)} Try another vm_size or location, or retry later.`;
    case "ResourcePurchaseValidationFailed":
    case "MarketplacePurchaseEligibilityFailed":
      return `The image's marketplace plan is not accepted for this subscription (${f.code}): ${firstLine(f.message)} Accept its terms once: az vm image terms accept --publisher P --offer O --plan PLAN.`;
  }
  if (f.code?.startsWith("AADSTS")) {
    return `Microsoft Entra ID refused the token request (${f.code}): ${firstLine(f.message)}`;
  }
  const status = f.statusCode ? `${f.statusCode} ` : "";
  return f.code ? `Azure answered ${status}${f.code}: ${f.message}` : f.message;
}

/** The subject an Entra "no matching federated identity record" message names. */
function assertionSubject(message: string): string | undefined {
  return (
    /presented assertion subject '([^']*)'/.exec(message)?.[1] ??
    /Assertion Subject: '([^']*)'/.exec(message)?.[1]
  );
}

function firstLine(message: string): string {
  const line = message.split(/\r?\n/)[0]?.trim() ?? "";
  return /[.!?]$/.test(line) ? line : `${line}.`;
}

/** A failed claw step: names the claw, the step and the ARM error code; `cause` keeps the original. */
export class ClawStepError extends Error {
  readonly code: string | undefined;
  constructor(
    readonly claw: string,
    readonly step: string,
    cause: unknown,
    hints: ErrorHints = {},
  ) {
    const code = azureErrorCode(cause);
    super(`${claw}: ${step} failed${code ? ` (${code})` : ""}: ${describeAzureError(cause, hints)}`, {
      cause,
    });
    this.name = "ClawStepError";
    this.code = code;
  }
}

/**
 * What to do about a subject Entra ID does not know. Only a job gated by an environment gets a
 * ready command: federating a pull request would hand Azure to code nobody has reviewed, and
 * federating any branch lets whoever can push to it act in Azure without the approval gate.
 */
function federationAdvice(subject: string | undefined, issuer: string, appId: string): string {
  if (!subject)
    return "Add a federated credential for the subject this job presents (az ad app federated-credential create).";
  if (/:pull_request$/.test(subject)) {
    return (
      "This job runs for a pull request, and a pull request must not have Azure access: its code is not reviewed yet. " +
      "Do not federate this subject. Run only validate on pull requests (it needs no Azure), and plan, bake and deploy on pushes to the deploy branch."
    );
  }
  const environment = /:environment:(.+)$/.exec(subject)?.[1];
  if (environment) {
    return (
      `If jobs in environment '${environment}' are meant to reach Azure (protect it with required reviewers and a deployment branch policy first), ` +
      `add a federated credential with exactly that subject: az ad app federated-credential create --id ${appId} --parameters ` +
      `'{"name":"github-${subject.replace(/[^A-Za-z0-9-]+/g, "-").slice(0, 80)}","issuer":"${issuer}","subject":"${subject}","audiences":["api://AzureADTokenExchange"]}'.`
    );
  }
  const branch = /:ref:refs\/heads\/(.+)$/.exec(subject)?.[1];
  return (
    `This job (${branch ? `branch '${branch}'` : "this ref"}) should not have Azure access: only the branch the fleet deploys from and the production environment are federated, ` +
    "so that nothing reaches Azure without review. Run the job on that branch (merge the change into it), or, if this really is the fleet's deploy branch, " +
    "re-run infra/azure/bootstrap-oidc.sh with --branch set to it."
  );
}
