/** The admin API: operators' control plane beside the gateway's data plane. */
export { createAdminHandler, type AdminHandler, type AdminHandlerOptions } from './admin-handler.ts';
export { budgetRows } from './budgets.ts';
export { runUsage } from './runs.ts';
