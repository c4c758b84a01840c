// Fails early, with the fix, when npm scripts run on a Node older than the one actions run on.
const major = Number(process.versions.node.split(".")[0]);
if (major < 24) {
  console.error(
    `Node ${process.versions.node} is on PATH; this project needs Node 24 (actions run on node24).\n` +
      "Run `npm ci` first: the node@24 devDependency puts Node 24 first on PATH inside npm scripts.",
  );
  process.exit(1);
}
