locals {
  install_scripts_dir = coalesce(var.install_scripts_dir, "${path.root}/../../vm-runtime/install/desktop")
  # Every *.sh in the directory, in name order (10-…, 20-…): whatever lands there is baked.
  install_scripts = [for name in sort(fileset(local.install_scripts_dir, "*.sh")) : "${local.install_scripts_dir}/${name}"]
}

build {
  name    = "baseline"
  sources = ["source.azure-arm.baseline"]

  provisioner "shell" {
    scripts          = local.install_scripts
    environment_vars = ["DEBIAN_FRONTEND=noninteractive"]
    execute_command  = "chmod +x {{ .Path }}; {{ .Vars }} sudo -E bash '{{ .Path }}'"
    # A driver install may reboot the VM; the next script runs once SSH is back.
    expect_disconnect = true
  }

  # Generalise the VM so every claw created from the image gets its own identity: Azure's
  # Packer guide ends Linux builds with exactly this step
  # (https://learn.microsoft.com/azure/virtual-machines/linux/build-image-with-packer,
  # "Define Packer template"). It deletes the user Packer logs in as, so Packer must not try
  # to remove the uploaded script afterwards (skip_clean).
  provisioner "shell" {
    inline          = ["/usr/sbin/waagent -force -deprovision+user && export HISTSIZE=0 && sync"]
    inline_shebang  = "/bin/sh -x"
    execute_command = "chmod +x {{ .Path }}; {{ .Vars }} sudo -E sh '{{ .Path }}'"
    skip_clean      = true
  }
}
