# The build VM: a marketplace base image (Ubuntu 24.04 LTS by default, or a GPU image with a
# purchase plan) in an existing build resource group, published straight into the fleet's
# Azure Compute Gallery. No managed image is kept: the 2.x azure plugin captures the VM into
# the gallery version directly ("Managed images can also be published to shared image
# galleries, but a managed image definition is not required", azure-arm builder docs,
# https://developer.hashicorp.com/packer/integrations/hashicorp/azure/latest/components/builder/arm).
source "azure-arm" "baseline" {
  subscription_id = var.subscription_id
  tenant_id       = var.tenant_id
  client_id       = var.client_id
  # GitHub Actions OIDC: the plugin requests an ID token from the job's token endpoint for every
  # Azure token it needs (go-azure-sdk's GitHub OIDC authorizer), so a bake that outlives one
  # token keeps working. A single `client_jwt` cannot be refreshed and fails such builds with
  # AADSTS700024 (hashicorp/packer-plugin-azure#507).
  oidc_request_url   = var.oidc_request_url
  oidc_request_token = var.oidc_request_token
  use_azure_cli_auth = var.use_azure_cli_auth

  build_resource_group_name = var.build_resource_group_name
  vm_size                   = var.vm_size
  os_type                   = "Linux"
  os_disk_size_gb           = var.os_disk_size_gb
  communicator              = "ssh"
  # Applied to the temporary resources and to the published gallery image version
  # (step_publish_to_shared_image_gallery.go passes the build's tags to the version).
  azure_tags = var.build_tags

  image_publisher = var.base_image_publisher
  image_offer     = var.base_image_offer
  image_sku       = var.base_image_sku
  image_version   = var.base_image_version

  # Marketplace images sold under a plan (the AMD V710 GPU image of the seed fleet) can only be
  # deployed with that plan named; its terms must have been accepted once per subscription
  # (`az vm image terms accept --publisher P --offer O --plan N`).
  dynamic "plan_info" {
    for_each = var.plan_name == null ? [] : [var.plan_name]
    content {
      plan_name      = var.plan_name
      plan_product   = var.plan_product
      plan_publisher = var.plan_publisher
    }
  }

  shared_image_gallery_destination {
    subscription        = var.subscription_id
    resource_group      = var.gallery_resource_group_name
    gallery_name        = var.gallery_name
    image_name          = var.gallery_image_name
    image_version       = var.gallery_image_version
    replication_regions = var.replication_regions
  }
  shared_image_gallery_timeout = var.gallery_timeout
}
