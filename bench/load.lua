-- wrk script of bench/load.ts: one fixed POST, its body and headers from the environment, and a
-- machine-readable summary at the end. BENCH_EXPECT (optional): a substring every response body
-- must contain (for answers that report failure with HTTP 200, e.g. MCP); misses are counted.
wrk.method = "POST"
wrk.body = os.getenv("BENCH_BODY")
for name, value in string.gmatch(os.getenv("BENCH_HEADERS") or "", "([^\t\n]+)\t([^\n]*)\n") do
  wrk.headers[name] = value
end

local threads = {}
function setup(thread)
  table.insert(threads, thread)
end

local expect = os.getenv("BENCH_EXPECT")
if expect and expect ~= "" then
  bad = 0
  function response(status, headers, body)
    if not body or not string.find(body, expect, 1, true) then bad = bad + 1 end
  end
end

function done(summary, latency, requests)
  local misses = 0
  for _, thread in ipairs(threads) do misses = misses + (thread:get("bad") or 0) end
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests":%d,"duration_us":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"bad":%d}\n',
    summary.requests, summary.duration, math.floor(latency:percentile(50)), math.floor(latency:percentile(90)),
    math.floor(latency:percentile(99)), e.connect, e.read, e.write, e.status, e.timeout, misses))
end
