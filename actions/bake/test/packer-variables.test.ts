import { describe, expect, it } from "vitest";
import { parseImageUrn } from "../src/inputs.ts";
import { packerVariables, type TemplateInputs } from "../src/packer-variables.ts";

const INPUTS: TemplateInputs = {
  subscriptionId: "sub",
  tenantId: "tenant",
  clientId: "client",
  auth: "github-oidc",
  buildResourceGroup: "rg-bake",
  vmSize: "Standard_NV12ads_V710_v5",
  installScriptsDir: "/tmp/scripts",
  galleryResourceGroup: "rg",
  galleryName: "gallery",
  imageDefinition: "image",
  imageVersion: "1.2.3",
  replicationRegions: ["westus", "eastus"],
  tags: { "openclawps.content-hash": "abc", project: "a, b" },
};

function vars(args: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < args.length; i += 2) {
    expect(args[i]).toBe("-var");
    const [name, ...value] = (args[i + 1] ?? "").split("=");
    out[name!] = value.join("=");
  }
  return out;
}

describe("packer variables", () => {
  it("passes the OIDC request token through the environment, never as an argument", () => {
    const { args, env } = packerVariables(INPUTS, {
      requestUrl: "https://oidc?x=1",
      requestToken: "s3cret-token",
    });
    expect(args.join(" ")).not.toContain("s3cret-token");
    expect(args.join(" ")).not.toContain("oidc");
    expect(env).toEqual({
      PKR_VAR_oidc_request_url: "https://oidc?x=1",
      PKR_VAR_oidc_request_token: "s3cret-token",
    });
  });

  it("writes lists and maps as HCL (JSON) expressions", () => {
    const v = vars(packerVariables(INPUTS, { requestUrl: "u", requestToken: "t" }).args);
    expect(JSON.parse(v.replication_regions!)).toEqual(["westus", "eastus"]);
    expect(JSON.parse(v.build_tags!)).toEqual(INPUTS.tags);
    expect(v.gallery_image_version).toBe("1.2.3");
  });

  it("leaves the base image to the template's default unless one is given", () => {
    const plain = vars(packerVariables(INPUTS, { requestUrl: "u", requestToken: "t" }).args);
    expect(plain.base_image_publisher).toBeUndefined();
    expect(plain.plan_name).toBeUndefined();
    const gpu = vars(
      packerVariables(
        {
          ...INPUTS,
          baseImage: { publisher: "p", offer: "o", sku: "s", version: "latest" },
          plan: { name: "s", product: "o", publisher: "p" },
        },
        { requestUrl: "u", requestToken: "t" },
      ).args,
    );
    expect(gpu).toMatchObject({
      base_image_offer: "o",
      plan_name: "s",
      plan_product: "o",
      plan_publisher: "p",
    });
  });

  it("switches Packer to the az login session for azure-cli auth", () => {
    const { args, env } = packerVariables({ ...INPUTS, auth: "azure-cli" });
    expect(vars(args).use_azure_cli_auth).toBe("true");
    expect(env).toEqual({});
  });
});

describe("parseImageUrn", () => {
  it("reads publisher:offer:sku with an optional version", () => {
    expect(parseImageUrn("Canonical:ubuntu-24_04-lts:server")).toEqual({
      publisher: "Canonical",
      offer: "ubuntu-24_04-lts",
      sku: "server",
      version: "latest",
    });
    expect(parseImageUrn("Canonical:ubuntu-24_04-lts:server:24.04.202411030")?.version).toBe(
      "24.04.202411030",
    );
  });

  it("refuses anything else", () => {
    for (const bad of ["Canonical:ubuntu-24_04-lts", "a::c", "a:b:c:d:e", ""])
      expect(parseImageUrn(bad), bad).toBeUndefined();
  });
});
