/**
 * The demo tool server over stdio, for fmguard to spawn and supervise:
 *   node --import tsx src/demo/tools/stdio-main.ts
 */
import { serveDemoToolsStdio } from './stdio.ts';

await serveDemoToolsStdio();
