// The variables the bake passes to the template: the contract between the action and
// infra/packer (and any template given as `packer-dir`, which must declare them all — Packer
// rejects a -var for a variable the template does not declare).
//
// Everything goes on the command line as `-var name=value` except the GitHub OIDC request
// token, a secret: it goes through the environment (PKR_VAR_<name>, which Packer reads as
// the variable's value: https://developer.hashicorp.com/packer/docs/templates/hcl_templates/variables#environment-variables), so it
// is in no command line, log or process listing.

export interface BaseImage {
  publisher: string;
  offer: string;
  sku: string;
  version: string;
}

export interface PurchasePlan {
  name: string;
  product: string;
  publisher: string;
}

export type PackerAuth = "github-oidc" | "azure-cli";

export interface TemplateInputs {
  subscriptionId: string;
  tenantId: string;
  clientId: string;
  auth: PackerAuth;
  buildResourceGroup: string;
  vmSize: string;
  /** Undefined: the template's default (Ubuntu 24.04 LTS). */
  baseImage?: BaseImage;
  plan?: PurchasePlan;
  installScriptsDir: string;
  galleryResourceGroup: string;
  galleryName: string;
  imageDefinition: string;
  imageVersion: string;
  replicationRegions: string[];
  tags: Record<string, string>;
}

export interface PackerInvocation {
  /** `-var` arguments, safe to print. */
  args: string[];
  /** Extra environment for the Packer process (secrets). */
  env: Record<string, string>;
}

/**
 * The -var arguments and environment for `packer build`. With GitHub OIDC the job's token
 * endpoint must be known: `oidc` carries ACTIONS_ID_TOKEN_REQUEST_URL / _TOKEN.
 */
export function packerVariables(
  t: TemplateInputs,
  oidc?: { requestUrl: string; requestToken: string },
): PackerInvocation {
  const vars: [string, string][] = [
    ["subscription_id", t.subscriptionId],
    ["tenant_id", t.tenantId],
    ["client_id", t.clientId],
    ["build_resource_group_name", t.buildResourceGroup],
    ["vm_size", t.vmSize],
    ["install_scripts_dir", t.installScriptsDir],
    ["gallery_resource_group_name", t.galleryResourceGroup],
    ["gallery_name", t.galleryName],
    ["gallery_image_name", t.imageDefinition],
    ["gallery_image_version", t.imageVersion],
    // Lists and maps are HCL expressions on the command line; JSON is valid HCL for both.
    ["replication_regions", JSON.stringify(t.replicationRegions)],
    ["build_tags", JSON.stringify(t.tags)],
  ];
  if (t.baseImage) {
    vars.push(
      ["base_image_publisher", t.baseImage.publisher],
      ["base_image_offer", t.baseImage.offer],
      ["base_image_sku", t.baseImage.sku],
      ["base_image_version", t.baseImage.version],
    );
  }
  if (t.plan) {
    vars.push(
      ["plan_name", t.plan.name],
      ["plan_product", t.plan.product],
      ["plan_publisher", t.plan.publisher],
    );
  }
  const env: Record<string, string> = {};
  if (t.auth === "azure-cli") {
    vars.push(["use_azure_cli_auth", "true"]);
  } else {
    if (!oidc) throw new Error("packerVariables: github-oidc auth needs the OIDC request URL and token");
    env.PKR_VAR_oidc_request_url = oidc.requestUrl;
    env.PKR_VAR_oidc_request_token = oidc.requestToken;
  }
  return { args: vars.flatMap(([name, value]) => ["-var", `${name}=${value}`]), env };
}
