-- wrk script for `npm run bench`: each request takes the next line of a file written before the
-- run (POOL), so every webhook is unique and correctly signed without signing during the run.
-- A line is "<header value>\t<body>"; HEADER names the header that carries the value (the
-- webhook signature, or for payment creation the Idempotency-Key). Other headers come from
-- EXTRA_HEADERS ("name: value|name: value"). At the end, one JSON line with the figures.
local lines = {}
local index = 0
local wrapped = 0
local header = os.getenv("HEADER") or "flutterwave-signature"
local extra = {}

function init(args)
  for line in io.lines(os.getenv("POOL")) do
    local tab = line:find("\t", 1, true)
    lines[#lines + 1] = { line:sub(1, tab - 1), line:sub(tab + 1) }
  end
  for pair in (os.getenv("EXTRA_HEADERS") or ""):gmatch("[^|]+") do
    local name, value = pair:match("^([^:]+):%s*(.*)$")
    extra[name] = value
  end
  extra["Content-Type"] = "application/json"
end

function request()
  index = index + 1
  if index > #lines then
    index = 1
    wrapped = wrapped + 1
  end
  local entry = lines[index]
  local headers = {}
  for k, v in pairs(extra) do headers[k] = v end
  headers[header] = entry[1]
  return wrk.format("POST", nil, headers, entry[2])
end

function done(summary, latency, requests)
  local non2xx = summary.errors.status
  io.write(string.format(
    'WRK {"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"max_us":%d,"errors":%d,"non2xx":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.max,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout, non2xx))
end
