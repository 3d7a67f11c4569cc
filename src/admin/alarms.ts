import type { AlarmState } from '../alarms/index.ts';
import { invalid, notFound, readJsonObject } from './request.ts';
import type { AdminReply, AdminRequest, Route } from './router.ts';

const STATES: readonly AlarmState[] = ['OK', 'ALARM', 'INSUFFICIENT_DATA'];

async function list({ guard }: AdminRequest): Promise<AdminReply> {
  return { body: { alarms: guard.alarms?.status() ?? [] } };
}

/** Like CloudWatch SetAlarmState: lasts until the next evaluation; the alarm's actions fire on the change. */
async function setState({ guard, params, req }: AdminRequest): Promise<AdminReply> {
  const name = params.name!;
  const alarms = guard.alarms;
  if (!alarms?.status(name)) throw notFound(`no alarm "${name}"`);
  const body = await readJsonObject(req);
  if (typeof body.state !== 'string' || !(STATES as readonly string[]).includes(body.state)) {
    throw invalid(`state: expected one of ${STATES.join(', ')}`, 'state');
  }
  if (typeof body.reason !== 'string' || body.reason.trim() === '' || body.reason.length > 1000) {
    throw invalid('reason: expected a non-empty string (why the state is set by hand)', 'reason');
  }
  await alarms.setState(name, body.state as AlarmState, body.reason);
  return { body: { alarm: alarms.status(name) } };
}

export const alarmRoutes: Route[] = [
  { method: 'GET', pattern: 'alarms', handler: list },
  { method: 'POST', pattern: 'alarms/:name/state', handler: setState },
];
