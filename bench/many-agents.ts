/** The many-agents config of bench:startup (also built by test/policy/many-agents.test.ts). */
/** A config object with `n` agents (the same schema as the YAML file). */
export function manyAgentsConfig(n: number): Record<string, unknown> {
  const agents: Record<string, unknown> = {};
  for (let i = 0; i < n; i++) {
    agents[`agent-${i}`] = {
      tenant: `t${i % 10}`,
      allow: { models: ['sim-small', i % 3 === 0 ? 'sim-*' : 'sim-large'], tools: [`demo.read_${i % 7}`, 'demo.search', i % 5 === 0 ? 'files.*' : 'files.read'] },
      deny: { tools: [i % 2 === 0 ? 'files.delete' : 'demo.admin_*'] },
    };
  }
  return {
    store: { kind: 'memory' },
    providers: { sim: { kind: 'simulated' } },
    models: { 'sim-small': { provider: 'sim', inputPerMTok: 1, outputPerMTok: 2 }, 'sim-large': { provider: 'sim', inputPerMTok: 3, outputPerMTok: 6 } },
    toolServers: {
      demo: { kind: 'http', url: 'http://127.0.0.1:9/mcp', tools: { search: {}, read_0: {}, read_1: {}, admin_reset: {} } },
      files: { kind: 'http', url: 'http://127.0.0.1:9/files', tools: { read: {}, delete: {} } },
    },
    tenants: Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`t${i}`, {}])),
    agents,
  };
}

