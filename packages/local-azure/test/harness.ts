// How a test talks to the stand-in through the real SDK clients. Other packages' tests can copy this.
import * as core from "@actions/core";
import { ComputeManagementClient } from "@azure/arm-compute";
import { NetworkManagementClient } from "@azure/arm-network";
import { ResourceManagementClient } from "@azure/arm-resources";
import { ClientAssertionCredential } from "@azure/identity";
import { type LocalAzure, type LocalAzureOptions, startLocalAzure, trustCaInProcess } from "../src/index.ts";

export interface Clients {
  azure: LocalAzure;
  credential: ClientAssertionCredential;
  resources: ResourceManagementClient;
  network: NetworkManagementClient;
  compute: ComputeManagementClient;
}

/** The credential a workflow uses: a fresh GitHub OIDC token per exchange (by default the runner's request). */
export function federatedCredential(
  azure: LocalAzure,
  idToken: () => Promise<string> = () => core.getIDToken("api://AzureADTokenExchange"),
): ClientAssertionCredential {
  return new ClientAssertionCredential(azure.tenantId, azure.clientId, idToken, {
    authorityHost: azure.authorityHost,
    disableInstanceDiscovery: true,
  });
}

export function clientsFor(azure: LocalAzure): Clients {
  const credential = federatedCredential(azure);
  const options = { endpoint: azure.armEndpoint };
  return {
    azure,
    credential,
    resources: new ResourceManagementClient(credential, azure.subscriptionId, options),
    network: new NetworkManagementClient(credential, azure.subscriptionId, options),
    compute: new ComputeManagementClient(credential, azure.subscriptionId, options),
  };
}

/** Starts the stand-in and points this process at it (CA trust + the Actions OIDC variables). */
export async function startWithClients(options: LocalAzureOptions = {}): Promise<Clients> {
  const azure = await startLocalAzure(options);
  trustCaInProcess(azure.caCertPem);
  process.env.ACTIONS_ID_TOKEN_REQUEST_URL = azure.idTokenRequestUrl;
  process.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN = azure.idTokenRequestToken;
  return clientsFor(azure);
}

/** Poll without the SDK's default 2 s pause. */
export const NOW = { updateIntervalInMs: 0 } as const;

export const LOCATION = "westus";

/** Creates the shared per-fleet resources: RG, VNet + subnet, NSG, gallery versions. */
export async function createFleetBase(c: Clients, rg: string, versions = ["1.0.0", "1.1.0"]) {
  await c.resources.resourceGroups.createOrUpdate(rg, {
    location: LOCATION,
    tags: { project: "openclawps" },
  });
  await c.azure.seedGalleryVersions(rg, "clawGallery", "claw-desktop", versions, LOCATION);
  const nsg = await c.network.networkSecurityGroups.createOrUpdate(
    rg,
    `${rg}-nsg`,
    {
      location: LOCATION,
      securityRules: [
        {
          name: "ssh",
          protocol: "Tcp",
          access: "Allow",
          direction: "Inbound",
          priority: 100,
          sourceAddressPrefix: "203.0.113.0/24",
          sourcePortRange: "*",
          destinationAddressPrefix: "*",
          destinationPortRange: "22",
        },
      ],
    },
    NOW,
  );
  const vnet = await c.network.virtualNetworks.createOrUpdate(
    rg,
    `${rg}-vnet`,
    {
      location: LOCATION,
      addressSpace: { addressPrefixes: ["10.0.0.0/16"] },
      subnets: [{ name: "default", addressPrefix: "10.0.0.0/24", networkSecurityGroup: { id: nsg.id! } }],
    },
    NOW,
  );
  return {
    nsg,
    vnet,
    subnetId: vnet.subnets![0]!.id!,
    imageId: (v: string) => imageVersionId(c.azure, rg, v),
  };
}

export function imageVersionId(azure: LocalAzure, rg: string, version: string): string {
  return `/subscriptions/${azure.subscriptionId}/resourceGroups/${rg}/providers/Microsoft.Compute/galleries/clawGallery/images/claw-desktop/versions/${version}`;
}

/** A claw's network: a static public IP `{claw}-pip` and the NIC `{claw}-nic` holding it, in the subnet. */
export async function createClawNetwork(c: Clients, rg: string, claw: string, subnetId: string) {
  const pip = await c.network.publicIPAddresses.createOrUpdate(
    rg,
    `${claw}-pip`,
    { location: LOCATION, sku: { name: "Standard" }, publicIPAllocationMethod: "Static" },
    NOW,
  );
  const nic = await c.network.networkInterfaces.createOrUpdate(
    rg,
    `${claw}-nic`,
    {
      location: LOCATION,
      ipConfigurations: [{ name: "ipconfig1", subnet: { id: subnetId }, publicIPAddress: { id: pip.id! } }],
    },
    NOW,
  );
  return { pip, nic };
}

/** The per-claw resource set the fleet creates: public IP, NIC, data disk, VM with the disk at LUN 0. */
export async function createClaw(
  c: Clients,
  rg: string,
  claw: string,
  base: { subnetId: string; imageId: (v: string) => string },
  version = "1.0.0",
) {
  const { pip, nic } = await createClawNetwork(c, rg, claw, base.subnetId);
  const disk = await c.compute.disks.createOrUpdate(
    rg,
    `${claw}-data`,
    {
      location: LOCATION,
      sku: { name: "StandardSSD_LRS" },
      creationData: { createOption: "Empty" },
      diskSizeGB: 32,
      tags: { "openclawps.claw": claw },
    },
    NOW,
  );
  const vm = await createVm(c, rg, claw, base.imageId(version), nic.id!, disk.id!);
  return { pip, nic, disk, vm };
}

export function createVm(
  c: Clients,
  rg: string,
  name: string,
  imageId: string,
  nicId: string,
  diskId: string,
) {
  return c.compute.virtualMachines.createOrUpdate(
    rg,
    name,
    {
      location: LOCATION,
      tags: { "openclawps.claw": name },
      hardwareProfile: { vmSize: "Standard_B2s" },
      storageProfile: {
        imageReference: { id: imageId },
        osDisk: {
          createOption: "FromImage",
          deleteOption: "Delete",
          managedDisk: { storageAccountType: "StandardSSD_LRS" },
        },
        dataDisks: [{ lun: 0, createOption: "Attach", managedDisk: { id: diskId }, deleteOption: "Detach" }],
      },
      osProfile: {
        computerName: name,
        adminUsername: "azureuser",
        customData: Buffer.from("#cloud-config\n").toString("base64"),
        linuxConfiguration: {
          disablePasswordAuthentication: true,
          ssh: {
            publicKeys: [{ path: "/home/azureuser/.ssh/authorized_keys", keyData: "ssh-ed25519 AAAA test" }],
          },
        },
      },
      networkProfile: { networkInterfaces: [{ id: nicId, primary: true, deleteOption: "Detach" }] },
    },
    NOW,
  );
}

/** Power state code (`PowerState/running`) from an instance view. */
export function powerState(statuses: { code?: string }[] | undefined): string | undefined {
  return statuses?.find((s) => s.code?.startsWith("PowerState/"))?.code;
}
