# Inputs of the baseline image build. The bake action fills them from the fleet manifest's
# `azure:` block and its own inputs; a person baking by hand passes them with -var or a
# .pkrvars.hcl file (README.md has an example).

# ------------------------------------------------------------------ identity and auth

variable "subscription_id" {
  type        = string
  description = "Azure subscription that holds the gallery and the build resource group."
}

variable "tenant_id" {
  type        = string
  description = "Microsoft Entra tenant of the app registration the build signs in as."
}

variable "client_id" {
  type        = string
  description = "Application (client) id of the app registration with a federated credential for this repository."
}

variable "oidc_request_url" {
  type        = string
  default     = null
  sensitive   = true
  description = "GitHub Actions OIDC: the job's ACTIONS_ID_TOKEN_REQUEST_URL. Packer asks it for a fresh ID token whenever it needs an Azure token, so bakes longer than a token's lifetime keep working. Leave unset with use_azure_cli_auth."
}

variable "oidc_request_token" {
  type        = string
  default     = null
  sensitive   = true
  description = "GitHub Actions OIDC: the job's ACTIONS_ID_TOKEN_REQUEST_TOKEN (a secret: pass it through the PKR_VAR_oidc_request_token environment variable, never on the command line)."
}

variable "use_azure_cli_auth" {
  type        = bool
  default     = false
  description = "Sign in with the current `az login` session instead of GitHub OIDC (for a bake run by hand). When true, the plugin ignores the other auth settings."
}

# ------------------------------------------------------------------ where the build VM runs

variable "build_resource_group_name" {
  type        = string
  description = "Existing resource group for the build VM and its temporary NIC, public IP, VNet and OS disk; Packer deletes them after the build. Keep it apart from the fleet's resource group, whose role may not delete disks."
}

variable "vm_size" {
  type        = string
  default     = "Standard_D4s_v5"
  description = "Size of the temporary build VM. Bake on the size the claws run (e.g. Standard_NV12ads_V710_v5) when the GPU driver install needs the GPU present."
}

variable "os_disk_size_gb" {
  type        = number
  default     = 64
  description = "OS disk size of the image in GB (the desktop and GPU stack outgrow the base image's 30 GB)."
}

variable "build_tags" {
  type        = map(string)
  default     = {}
  description = "Tags for the temporary build resources and the published image version (the bake action adds its content-hash and commit tags here)."
}

# ------------------------------------------------------------------ base image

# Canonical's Ubuntu 24.04 LTS server image for Gen2 VMs: URN
# Canonical:ubuntu-24_04-lts:server:latest ("Find Ubuntu images on Azure",
# https://documentation.ubuntu.com/azure/azure-how-to/instances/find-ubuntu-images/).
variable "base_image_publisher" {
  type        = string
  default     = "Canonical"
  description = "Marketplace publisher of the base image. For a GPU marketplace image, the publisher of its purchase plan (e.g. amdinc1746636494855)."
}

variable "base_image_offer" {
  type        = string
  default     = "ubuntu-24_04-lts"
  description = "Marketplace offer of the base image (for a plan image, the plan's product)."
}

variable "base_image_sku" {
  type        = string
  default     = "server"
  description = "Marketplace SKU of the base image (for a plan image, usually the plan's name). `server` is the Gen2 amd64 SKU."
}

variable "base_image_version" {
  type        = string
  default     = "latest"
  description = "Marketplace image version; pin it for a reproducible bake."
}

variable "plan_name" {
  type        = string
  default     = null
  description = "Purchase plan name of a marketplace base image that has one (the manifest's purchase_plan.name); null for images without a plan such as Ubuntu."
}

variable "plan_product" {
  type        = string
  default     = null
  description = "Purchase plan product (the manifest's purchase_plan.product). Required with plan_name."
}

variable "plan_publisher" {
  type        = string
  default     = null
  description = "Purchase plan publisher (the manifest's purchase_plan.publisher). Required with plan_name."
}

# ------------------------------------------------------------------ what runs on the build VM

variable "install_scripts_dir" {
  type        = string
  default     = null
  description = "Directory whose *.sh scripts install the baseline (OS packages, GPU driver, desktop, remote access, Node, Chrome, the npm tree of OpenClaw and Claude Code); they run as root in name order. Its parent, laid out as vm-runtime/install (versions.env, lib/, npm/), is uploaded with them as CLAW_INSTALL_DIR. Default: vm-runtime/install/desktop of this repository."
}

# ------------------------------------------------------------------ where the image is published

variable "gallery_resource_group_name" {
  type        = string
  description = "Resource group of the Azure Compute Gallery (the manifest's azure.resource_group_name)."
}

variable "gallery_name" {
  type        = string
  description = "Azure Compute Gallery to publish to (the manifest's azure.gallery_name)."
}

variable "gallery_image_name" {
  type        = string
  description = "Image definition in the gallery (the manifest's azure.fleet_image_definition_name). It must exist, with the base image's purchase plan when it has one."
}

variable "gallery_image_version" {
  type        = string
  description = "Version to publish: Major.Minor.Patch, each an integer (Azure's format for gallery image versions)."

  # Written without regex() and tonumber(): Packer 1.6.6, which the test suite validates with,
  # has neither function.
  validation {
    condition = length(split(".", var.gallery_image_version)) == 3 && length([
      for part in split(".", var.gallery_image_version) : part
      if length(part) > 0 && length(part) <= 9 && trim(part, "0123456789") == "" && (part == "0" || substr(part, 0, 1) != "0")
    ]) == 3
    error_message = "The gallery_image_version value must be Major.Minor.Patch with integer parts, e.g. 1.4.0."
  }
}

variable "replication_regions" {
  type        = list(string)
  default     = []
  description = "Regions to replicate the image version to (the manifest's azure.replication_regions, else its location). Empty: the plugin's default, the build location."
}

variable "gallery_timeout" {
  type        = string
  default     = "90m"
  description = "How long to wait for the gallery to publish and replicate the version (a Go duration)."
}
