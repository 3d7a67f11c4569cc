// `npm run build`: compile src/ to dist/ with tsc (incremental), then copy the files tsc does not
// emit but the package reads at run time (e.g. the AWS export's Lambda source, src/**/*.cjs), and
// bundle the web console.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const src = join(root, 'src');
const dist = join(root, 'dist');

execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });

const ASSET = /\.(cjs|json)$/;
function copyAssets(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) copyAssets(path);
    else if (ASSET.test(name)) {
      const target = join(dist, relative(src, path));
      mkdirSync(dirname(target), { recursive: true });
      copyFileSync(path, target);
    }
  }
}
copyAssets(src);

// The web console's browser bundle (console/, Preact + uPlot through esbuild) into dist/console-ui/.
execFileSync(process.execPath, ['--import', 'tsx', join(root, 'console/build.ts')], { cwd: root, stdio: 'inherit' });
