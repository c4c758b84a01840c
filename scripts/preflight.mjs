// Fails early, with the fix, when an npm script would fail later for want of a tool.
//   node scripts/preflight.mjs          Node 24 only (demo, build)
//   node scripts/preflight.mjs test     also the Debian tools the test suites drive for real
import { execFileSync } from "node:child_process";

const problems = [];
const major = Number(process.versions.node.split(".")[0]);
if (major < 24) {
  problems.push(
    `Node ${process.versions.node} is on PATH; this project needs Node 24 (actions run on node24). ` +
      "Run `npm install` first: the node@24 devDependency puts Node 24 first on PATH inside npm scripts.",
  );
}

if (process.argv[2] === "test") {
  // command → Debian package that provides it
  const tools = {
    "/usr/sbin/sshd": "openssh-server",
    "ssh-keygen": "openssh-client",
    shellcheck: "shellcheck",
    bats: "bats",
    packer: "packer",
    jq: "jq",
    "cloud-init": "cloud-init",
    gpg: "gnupg",
  };
  const missing = Object.entries(tools).filter(([cmd]) => {
    try {
      execFileSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" });
      return false;
    } catch {
      return true;
    }
  });
  if (missing.length) {
    const pkgs = [...new Set(missing.map(([, p]) => p))].join(" ");
    problems.push(
      `The tests drive real tools that are not installed: ${missing.map(([c]) => c).join(", ")}.\n` +
        `Install them with: sudo apt-get install ${pkgs}   (CI's .ci/run does this)`,
    );
  }
}

if (problems.length) {
  for (const p of problems) console.error(`✖ ${p}`);
  process.exit(1);
}
