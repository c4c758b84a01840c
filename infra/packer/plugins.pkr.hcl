# Plugin requirements live in this file alone: Packer releases before 1.7 (Debian's packaged
# 1.6.6 among them) do not know `required_plugins` and fail on it, while their built-in
# azure-arm builder needs no plugin. Tools that validate with such a Packer leave this file
# out (see README.md, "Validating").
packer {
  # `packer init` and HCL2 `required_plugins` arrived in Packer 1.7.0; the azure plugin 2.x
  # needs a Packer built with plugin SDK protocol 5.
  required_version = ">= 1.10.0"

  required_plugins {
    azure = {
      source = "github.com/hashicorp/azure"
      # The 2.x line has `oidc_request_url` / `oidc_request_token`, the GitHub Actions OIDC flow
      # this template authenticates with (builder/azure/common/client/config.go in
      # hashicorp/packer-plugin-azure; used with 2.2.0 in hashicorp/packer-plugin-azure#421), and
      # publishes to a gallery without an intermediate managed image.
      version = ">= 2.2.0, < 3.0.0"
    }
  }
}
