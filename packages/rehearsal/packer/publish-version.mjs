// What Packer's azure-arm builder does at the end of a real bake, for the rehearsal's null
// template: sign in with the GitHub OIDC request URL and token the bake handed to Packer
// (GitHub's token → client assertion → Microsoft Entra), then create the gallery image version
// with the build's tags and replication regions, through the real SDK client, in the local Azure.
import { ComputeManagementClient } from "@azure/arm-compute";
import { ClientAssertionCredential } from "@azure/identity";

const env = process.env;
const need = (name) => {
  if (!env[name]) throw new Error(`publish-version.mjs: ${name} is not set`);
  return env[name];
};

async function githubIdToken() {
  const url = `${need("OIDC_REQUEST_URL")}&audience=${encodeURIComponent("api://AzureADTokenExchange")}`;
  const response = await fetch(url, { headers: { Authorization: `Bearer ${need("OIDC_REQUEST_TOKEN")}` } });
  if (!response.ok) throw new Error(`GitHub OIDC token request failed: HTTP ${response.status}`);
  return (await response.json()).value;
}

const credential = new ClientAssertionCredential(need("TENANT_ID"), need("CLIENT_ID"), githubIdToken, {
  authorityHost: need("AZURE_AUTHORITY_HOST"),
  disableInstanceDiscovery: true,
});
const compute = new ComputeManagementClient(credential, need("SUBSCRIPTION_ID"), {
  endpoint: need("AZURE_ARM_ENDPOINT"),
});
const rg = need("GALLERY_RESOURCE_GROUP");
const gallery = need("GALLERY_NAME");
const { location } = await compute.galleries.get(rg, gallery);
const regions = (env.REPLICATION_REGIONS ?? "").split(",").filter(Boolean);
const created = await compute.galleryImageVersions.beginCreateOrUpdateAndWait(
  rg,
  gallery,
  need("GALLERY_IMAGE_NAME"),
  need("GALLERY_IMAGE_VERSION"),
  {
    location,
    tags: JSON.parse(env.BUILD_TAGS || "{}"),
    storageProfile: {
      source: {
        id: `/subscriptions/${need("SUBSCRIPTION_ID")}/resourceGroups/${need("BUILD_RESOURCE_GROUP")}/providers/Microsoft.Compute/virtualMachines/pkrvmrehearsal`,
      },
    },
    publishingProfile: { targetRegions: (regions.length ? regions : [location]).map((name) => ({ name })) },
  },
  { updateIntervalInMs: 20 },
);
console.log(` -> Shared Gallery Image Version ID : '${created.id}'`);
