// better-sqlite3 is a native addon tied to one Node ABI. npm builds it for whichever Node runs the
// install (often the system Node, with this machine's npmrc pointing node-gyp at the system
// headers), but `npm start` and `npm test` run on the Node pinned in devDependencies. When the two
// differ, rebuild the addon against the pinned Node's own headers, which ship inside its package.
import { spawnSync } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';

const probe = "new (require('better-sqlite3'))(':memory:').close()";

function loadsUnder(nodeBinary: string): boolean {
  return spawnSync(nodeBinary, ['-e', probe], { stdio: 'ignore' }).status === 0;
}

const pinnedNode = realpathSync(process.execPath);
if (!loadsUnder(pinnedNode)) {
  // The `node` package copies its platform package's binary to node_modules/node/bin and keeps
  // the platform package (with include/node) nested below it.
  const nodePackageDir = join(dirname(pinnedNode), '..');
  const platformPackage = `node-${process.platform}-${process.arch}`;
  const headersDir =
    [
      nodePackageDir,
      join(nodePackageDir, 'node_modules', platformPackage),
      join(nodePackageDir, '..', platformPackage),
    ].find((dir) => existsSync(join(dir, 'include', 'node', 'node.h'))) ?? nodePackageDir;
  if (!existsSync(join(headersDir, 'include', 'node', 'node.h'))) {
    console.error(`paywarden postinstall: no Node headers under ${headersDir}; cannot rebuild better-sqlite3`);
    process.exit(1);
  }
  console.log(`paywarden postinstall: rebuilding better-sqlite3 for Node ${process.version}`);
  const rebuilt = spawnSync('npm', ['rebuild', 'better-sqlite3', '--ignore-scripts=false'], {
    stdio: 'inherit',
    env: { ...process.env, npm_config_nodedir: headersDir },
  });
  if (rebuilt.status !== 0 || !loadsUnder(pinnedNode)) {
    console.error('paywarden postinstall: better-sqlite3 still does not load; see the build log above');
    process.exit(1);
  }
}
