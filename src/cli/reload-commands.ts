import type { Command } from 'commander';
import { CONFIG_OPTION_HELP } from './config-file.ts';
import { JSON_HELP } from './table.ts';

/**
 * `fmguard reload`: ask a running gateway to load its config file again, through the admin API
 * (`POST /admin/config/reload`), so it works for a gateway on another host or in a container and the
 * refusal (the same errors as `fmguard config check`) comes back to the operator. SIGHUP does the same
 * for a local process.
 */
export function registerReloadCommands(program: Command): void {
  program
    .command('reload')
    .description(
      'Make a running gateway load its config file again (POST /admin/config/reload): keys, limits, budgets and policies change without a restart; a file `config check` refuses is refused and the old config stays. Exit 0 reloaded, 1 refused',
    )
    .option('-c, --config <file>', `${CONFIG_OPTION_HELP}; gives the gateway's address and admin token`)
    .option('--url <url>', 'the gateway (default http://<server.host>:<server.port> from the config)')
    .option('--token <token>', 'the admin token (default FMGUARD_ADMIN_TOKEN, else server.adminToken from the config)')
    .option('--json', JSON_HELP)
    .action(async (options: { config?: string; url?: string; token?: string; json?: boolean }) => {
      let url = options.url;
      let token = options.token ?? process.env.FMGUARD_ADMIN_TOKEN;
      if (!url || !token) {
        const { findConfigFile } = await import('./config-file.ts');
        const { loadConfigFile } = await import('../config/load.ts');
        const config = loadConfigFile(findConfigFile(options.config));
        url ??= `http://${config.server.host ?? '127.0.0.1'}:${config.server.port ?? 8787}`;
        token ??= config.server.adminToken;
      }
      if (!token) throw new Error('no admin token: give --token, FMGUARD_ADMIN_TOKEN or server.adminToken in the config');
      const res = await fetch(`${url.replace(/\/$/, '')}/admin/config/reload`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ by: 'cli' }),
      });
      const body = (await res.json().catch(() => ({}))) as { changed?: string[]; restartOnly?: string[]; error?: { message?: string } };
      if (options.json) console.log(JSON.stringify(res.ok ? body : { reloaded: false, status: res.status, error: body.error }));
      else if (res.ok) {
        const restart = body.restartOnly?.length ? `; after a restart only: ${body.restartOnly.join(', ')}` : '';
        console.log(`reloaded; changed: ${body.changed?.join(', ') || 'nothing'}${restart}`);
      } else console.error(`reload refused (HTTP ${res.status}); the running config stays:\n${body.error?.message ?? ''}`);
      if (!res.ok) process.exitCode = 1;
    });
}
