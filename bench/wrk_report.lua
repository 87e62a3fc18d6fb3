-- wrk script of the benchmark: signed-in requests, every status checked, a JSON summary.
-- Environment: BENCH_COOKIE (the session cookie header, or several), BENCH_EXPECT (the status every
-- response must have, 200 or 304), BENCH_IF_NONE_MATCH (optional ETag to revisit with).

-- BENCH_COOKIE and BENCH_AUTHORIZATION may each hold several values, one a line (several
-- signed-in users): the requests take them in turn.
local function lines(text)
  local found = {}
  for line in string.gmatch(text or "", "[^\n]+") do
    table.insert(found, line)
  end
  return found
end
local cookies = lines(os.getenv("BENCH_COOKIE"))
-- An API operation: BENCH_AUTHORIZATION is "Bearer cfp_..." (then BENCH_COOKIE is empty).
local authorizations = lines(os.getenv("BENCH_AUTHORIZATION"))
if #cookies == 1 then
  wrk.headers["Cookie"] = cookies[1]
end
if #authorizations == 1 then
  wrk.headers["Authorization"] = authorizations[1]
end
if #cookies > 1 or #authorizations > 1 then
  local turn = 0
  request = function()
    turn = turn + 1
    local headers = {}
    for name, value in pairs(wrk.headers) do
      headers[name] = value
    end
    if #cookies > 1 then
      headers["Cookie"] = cookies[(turn % #cookies) + 1]
    end
    if #authorizations > 1 then
      headers["Authorization"] = authorizations[(turn % #authorizations) + 1]
    end
    return wrk.format(nil, nil, headers)
  end
end
local etag = os.getenv("BENCH_IF_NONE_MATCH") or ""
if etag ~= "" then
  wrk.headers["If-None-Match"] = etag
end
local expected = tonumber(os.getenv("BENCH_EXPECT") or "200")

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  unexpected = 0
  last_unexpected = 0
  responses = 0
end

function response(status, headers, body)
  responses = responses + 1
  if status ~= expected then
    unexpected = unexpected + 1
    last_unexpected = status
  end
end

function done(summary, latency, requests)
  local unexpected_total, last_status, counted = 0, 0, 0
  for _, thread in ipairs(threads) do
    unexpected_total = unexpected_total + (thread:get("unexpected") or 0)
    counted = counted + (thread:get("responses") or 0)
    local status = thread:get("last_unexpected") or 0
    if status ~= 0 then
      last_status = status
    end
  end
  local seconds = summary.duration / 1e6
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "seconds": %.6f, "rps": %.3f, "bytes": %d, '
      .. '"p50_ms": %.3f, "p95_ms": %.3f, "p99_ms": %.3f, "mean_ms": %.3f, "max_ms": %.3f, '
      .. '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, '
      .. '"unexpected_status": %d, "last_unexpected_status": %d, "checked": %d, '
      .. '"expected_status": %d}\n',
    summary.requests, seconds, summary.requests / seconds, summary.bytes,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, latency.mean / 1000, latency.max / 1000,
    summary.errors.connect, summary.errors.read, summary.errors.write,
    summary.errors.status, summary.errors.timeout,
    unexpected_total, last_status, counted, expected
  ))
end
