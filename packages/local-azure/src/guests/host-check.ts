// Whether this machine can run guests: one line saying why not, or undefined.
import { accessSync, constants, existsSync, readFileSync } from "node:fs";
import { delimiter, join } from "node:path";

/** Host programs a guest needs (the guest's userland is the host's, read-only). */
const TOOLS: [string, string][] = [
  ["unshare", "util-linux"],
  ["losetup", "util-linux"],
  ["ip", "iproute2"],
  ["mkfs.ext4", "e2fsprogs"],
  ["blkid", "util-linux"],
  ["wipefs", "util-linux"],
  ["cloud-init", "cloud-init"],
  ["sshd", "openssh-server"],
  ["sudo", "sudo"],
  ["gpg", "gnupg"],
  ["Xvfb", "xvfb"],
  ["xauth", "xauth"],
  ["xdpyinfo", "x11-utils"],
  ["python3", "python3"],
];

function onPath(name: string): boolean {
  const dirs = [...(process.env.PATH ?? "").split(delimiter), "/usr/sbin", "/sbin", "/usr/bin"];
  return dirs.some((d) => {
    try {
      accessSync(join(d, name), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

export function guestsUnavailableReason(): string | undefined {
  if (process.platform !== "linux") return `guests need Linux namespaces (this is ${process.platform})`;
  if (process.getuid?.() !== 0)
    return "guests need root (mount, loop devices and network namespaces); run as root to boot VMs";
  if (!existsSync("/dev/loop-control")) return "guests need loop devices: /dev/loop-control is missing";
  if (!readFileSync("/proc/filesystems", "utf8").includes("overlay"))
    return "guests need overlayfs, which this kernel does not offer";
  // The guest's programs are the host's: python3 for cloud-init at its Debian path.
  if (!existsSync("/usr/bin/python3")) return "guests need /usr/bin/python3 (apt-get install python3)";
  const missing = TOOLS.filter(([t]) => !onPath(t));
  if (missing.length > 0) {
    const pkgs = [...new Set(missing.map(([, p]) => p))].join(" ");
    return `guests need ${missing.map(([t]) => t).join(", ")} (apt-get install ${pkgs})`;
  }
  return undefined;
}
