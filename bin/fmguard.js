#!/usr/bin/env node
// fmguard is written in TypeScript; tsx compiles it on the fly (Node 20 has no type stripping).
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
