locals {
  install_scripts_dir = coalesce(var.install_scripts_dir, "${path.root}/../../vm-runtime/install/desktop")
  # Every *.sh in the directory, in name order (10-…, 20-…): whatever lands there is baked.
  install_scripts = [for name in sort(fileset(local.install_scripts_dir, "*.sh")) : "${local.install_scripts_dir}/${name}"]
  # The scripts' parent, laid out as vm-runtime/install: the pins (versions.env), lib/ and npm/
  # (the lockfile of OpenClaw and Claude Code) that the scripts read as CLAW_INSTALL_DIR.
  install_dir = dirname(local.install_scripts_dir)
  # Where it lands on the build VM; deprovisioning leaves it behind in /tmp, which the image
  # does not keep across a boot.
  remote_install_dir = "/tmp/claw-install"
}

build {
  name    = "baseline"
  sources = ["source.azure-arm.baseline"]

  # The file provisioner needs the destination's parent to exist.
  provisioner "shell" {
    inline = ["mkdir -p ${local.remote_install_dir}"]
  }

  # A trailing slash uploads the directory's content into the destination.
  provisioner "file" {
    source      = "${local.install_dir}/"
    destination = local.remote_install_dir
  }

  provisioner "shell" {
    scripts          = local.install_scripts
    environment_vars = ["DEBIAN_FRONTEND=noninteractive", "CLAW_INSTALL_DIR=${local.remote_install_dir}"]
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
