/** ARCHITECTURE.md matches the tree: every folder it names under src/ exists, and it names every top-level folder of src/. */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const doc = readFileSync(join(ROOT, 'ARCHITECTURE.md'), 'utf8');
const named = [...new Set([...doc.matchAll(/`src\/([A-Za-z0-9_./-]+)\/`/g)].map((m) => m[1]))];

describe('ARCHITECTURE.md', () => {
  it('names only folders that exist', () => {
    expect(named.length).toBeGreaterThan(15);
    const missing = named.filter((folder) => !existsSync(join(ROOT, 'src', folder)) || !statSync(join(ROOT, 'src', folder)).isDirectory());
    expect(missing).toEqual([]);
  });

  it('names every top-level folder of src/', () => {
    const top = readdirSync(join(ROOT, 'src')).filter((name) => statSync(join(ROOT, 'src', name)).isDirectory());
    expect(top.filter((folder) => !named.includes(folder))).toEqual([]);
  });

  it('names every subfolder of src/ too', () => {
    const all: string[] = [];
    const walk = (rel: string) => {
      for (const name of readdirSync(join(ROOT, 'src', rel))) {
        const path = rel ? `${rel}/${name}` : name;
        if (statSync(join(ROOT, 'src', path)).isDirectory()) {
          all.push(path);
          walk(path);
        }
      }
    };
    walk('');
    expect(all.filter((folder) => !named.includes(folder))).toEqual([]);
  });
});
