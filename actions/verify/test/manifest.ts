/** A claws.yaml for the verify tests: one resource group's fleet, with the claws given as YAML. */
export function manifestYaml(rg: string, claws: string): string {
  return `azure:
  location: westus
  resource_group_name: ${rg}
  virtual_network_name: ${rg}-vnet
  subnet_name: default
  network_security_group_name: ${rg}-nsg
  address_space: [10.0.0.0/16]
  subnet_prefixes: [10.0.0.0/24]
  gallery_name: gallery
  fleet_image_definition_name: claw-desktop
  image_definitions:
    claw-desktop: { publisher: claw, offer: claw-vm, sku: desktop }
  hyper_v_generation: V2
  trusted_launch_enabled: false
  tags: {}
defaults:
  admin_username: azureuser
  vm_size: Standard_NV12ads_V710_v5
  data_disk_size_gb: 32
  data_disk_sku: Standard_LRS
  image_version: "1.0.0"
  model: xai/grok-4-1-fast-non-reasoning
  telegram_user_id: ""
  enable_trusted_launch: false
claws:
${claws}`;
}
