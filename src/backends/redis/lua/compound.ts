import { LuaScript } from '../script.ts';
import { reserveScript, settleScript } from './ledger.ts';
import { creditScript, takeScript } from './rates.ts';

/**
 * Two or three of the single-decision scripts run as one (one round trip, atomic as each part is):
 * every part's body becomes a Lua function whose parameter shadows ARGV, so each reads exactly the
 * arguments it reads when it runs alone. ARGV here: the length of the first part's arguments, that
 * part's arguments, then the second part's.
 */
const HEAD = `
local ALL = ARGV
local nA = tonumber(ALL[1])
local A, B = {}, {}
for i = 2, nA + 1 do A[#A + 1] = ALL[i] end
for i = nA + 2, #ALL do B[#B + 1] = ALL[i] end
`;

const fn = (name: string, script: LuaScript) => `local function ${name}(ARGV)\n${script.source}\nend\n`;

/** take(A); if taken, reserve(B); if refused, credit(A). Returns {'rate', bucket, wait} or reserve's reply. */
export const takeAndReserveScript = new LuaScript(
  'takeAndReserve',
  `${HEAD}${fn('take', takeScript)}${fn('reserve', reserveScript)}${fn('credit', creditScript)}
local r = take(A)
if r[1] ~= 1 then return {'rate', r[2], r[3]} end
local q = reserve(B)
if q[1] ~= 'ok' then credit(A) end
return q
`,
);

/** settle(B), then credit(A) (A empty: no credit). Returns settle's reply. */
export const settleAndCreditScript = new LuaScript(
  'settleAndCredit',
  `${HEAD}${fn('settle', settleScript)}${fn('credit', creditScript)}
local q = settle(B)
if nA > 0 then credit(A) end
return q
`,
);
