-- wrk script: incident reports as the phone's script sends them (static/reports/report.js),
-- each request unique (its own UUID and description), for bench/beside_floor.py.
--
--   WRK_SENDERS=senders.lua wrk -t2 -c32 -d20s -s bench/wrk/report.lua URL -- send
--   WRK_SENDERS=senders.lua wrk -t2 -c32 -d20s -s bench/wrk/report.lua URL -- floor
--
-- senders.lua (written by bench/beside_floor.py) returns a table: occurred_at (the local time
-- the reports carry), categories (codes), and senders, one per signed-in observer: its send
-- key, its cookies and its station's number. "send" posts to /report/send/ with the key and
-- the cookies, as the browser does; "floor" posts the same body to /floor/ without them.

local data = dofile(os.getenv("WRK_SENDERS"))
local threads_started = 0

-- Runs in the main state once per thread; "id" becomes a global of that thread's state.
function setup(thread)
  threads_started = threads_started + 1
  thread:set("id", threads_started)
end

local mode, turn

function init(args)
  mode = args[1] or "send"
  -- each thread its own sequence: two threads sending one UUID would be one report
  math.randomseed(os.time() * 1000 + id * 7919)
  turn = id
end

local function hex(digits)
  local parts = {}
  for i = 1, digits do
    parts[i] = string.format("%x", math.random(0, 15))
  end
  return table.concat(parts)
end

local function uuid4()
  return hex(8) .. "-" .. hex(4) .. "-4" .. hex(3) .. "-" ..
    string.format("%x", math.random(8, 11)) .. hex(3) .. "-" .. hex(12)
end

-- "Замер " percent-encoded, as a browser encodes a form
local MEASURE = "%D0%97%D0%B0%D0%BC%D0%B5%D1%80+"

function request()
  turn = turn % #data.senders + 1
  local sender = data.senders[turn]
  local report = uuid4()
  local category = data.categories[math.random(1, #data.categories)]
  local body = "uuid=" .. report .. "&station=" .. sender.station .. "&category=" .. category ..
    "&count=" .. math.random(1, 59) ..
    "&needs_mobile_group=" .. (math.random() < 0.05 and "on" or "") ..
    "&needs_lawyer=" .. (math.random() < 0.03 and "on" or "") ..
    "&description=" .. MEASURE .. report .. "%3A+" .. category ..
    "&occurred_at=" .. data.occurred_at
  local headers = {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Accept"] = "application/json",
  }
  local path = "/floor/"
  if mode == "send" then
    path = "/report/send/"
    headers["Authorization"] = "SendKey " .. sender.key
    headers["Cookie"] = sender.cookie
  end
  return wrk.format("POST", path, headers, body)
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    'WRK_RESULT {"requests": %d, "duration_us": %d, "bytes": %d, ' ..
    '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ' ..
    '"p50_ms": %.2f, "p90_ms": %.2f, "p99_ms": %.2f, "max_ms": %.2f}\n',
    summary.requests, summary.duration, summary.bytes,
    errors.connect, errors.read, errors.write, errors.status, errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000))
end
