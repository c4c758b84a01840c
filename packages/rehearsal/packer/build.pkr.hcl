# The rehearsal's stand-in for the cloud build of infra/packer. Packer's azure-arm builder
# creates a VM in Azure, runs the install scripts on it and captures it into the gallery; none
# of that can run offline. This template runs on Packer's `null` builder beside the shipped
# template's own variables.pkr.hcl (so every variable the bake passes is checked against the
# real contract), lists the install scripts it would run, and then does what the azure-arm
# builder does at the end of a build: signs in with the GitHub OIDC variables the bake handed to
# Packer and publishes the image version into the gallery (publish-version.mjs), here the local
# Azure.

locals {
  install_scripts_dir = coalesce(var.install_scripts_dir, "${path.root}/scripts")
  install_scripts     = [for name in sort(fileset(local.install_scripts_dir, "*.sh")) : "${local.install_scripts_dir}/${name}"]
}

source "null" "baseline" {
  communicator = "none"
}

build {
  name    = "baseline"
  sources = ["source.null.baseline"]

  provisioner "shell-local" {
    inline = [
      "echo 'rehearsal build of ${var.gallery_image_name} ${var.gallery_image_version} from ${var.base_image_publisher}:${var.base_image_offer}:${var.base_image_sku}'",
      "for script in ${join(" ", local.install_scripts)}; do echo \"would run $(basename \"$script\")\"; done",
    ]
  }

  provisioner "shell-local" {
    environment_vars = [
      "SUBSCRIPTION_ID=${var.subscription_id}",
      "TENANT_ID=${var.tenant_id}",
      "CLIENT_ID=${var.client_id}",
      "OIDC_REQUEST_URL=${coalesce(var.oidc_request_url, "")}",
      "OIDC_REQUEST_TOKEN=${coalesce(var.oidc_request_token, "")}",
      "GALLERY_RESOURCE_GROUP=${var.gallery_resource_group_name}",
      "GALLERY_NAME=${var.gallery_name}",
      "GALLERY_IMAGE_NAME=${var.gallery_image_name}",
      "GALLERY_IMAGE_VERSION=${var.gallery_image_version}",
      "BUILD_RESOURCE_GROUP=${var.build_resource_group_name}",
      "REPLICATION_REGIONS=${join(",", var.replication_regions)}",
      "BUILD_TAGS=${jsonencode(var.build_tags)}",
    ]
    inline = ["\"$REHEARSAL_NODE\" \"$REHEARSAL_PUBLISH_SCRIPT\""]
  }
}
