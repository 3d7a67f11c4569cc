import type { AlarmState } from '../alarms/index.ts';
import { notFound } from './request.ts';
import { alarmStateBody, parseBody } from './schemas.ts';
import type { AdminReply, AdminRequest, Route } from './router.ts';

async function list({ guard }: AdminRequest): Promise<AdminReply> {
  return { body: { alarms: guard.alarms?.status() ?? [] } };
}

/** Like CloudWatch SetAlarmState: lasts until the next evaluation; the alarm's actions fire on the change. */
async function setState({ guard, params, req }: AdminRequest): Promise<AdminReply> {
  const name = params.name!;
  const alarms = guard.alarms;
  if (!alarms?.status(name)) throw notFound(`no alarm "${name}"`);
  const body = await parseBody(req, alarmStateBody);
  await alarms.setState(name, body.state as AlarmState, body.reason);
  return { body: { alarm: alarms.status(name) } };
}

export const alarmRoutes: Route[] = [
  { method: 'GET', pattern: 'alarms', handler: list },
  { method: 'POST', pattern: 'alarms/:name/state', handler: setState },
];
