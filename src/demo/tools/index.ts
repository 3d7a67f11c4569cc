export { createDemoWorld, type DemoEmail, type DemoEvent, type DemoPage, type DemoSleep, type DemoWorld, type DemoWorldSeed } from './world.ts';
export { DEMO_TOOLS, demoToolServerSpec, type DemoTool } from './tools.ts';
export { createDemoToolServer, type DemoToolServerOptions } from './server.ts';
export { serveDemoToolsHttp, type DemoHttpServer, type DemoHttpServerOptions } from './http-server.ts';
export { serveDemoToolsStdio } from './stdio.ts';
