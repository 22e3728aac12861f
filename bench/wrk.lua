-- wrk scenarios of bench/run, and the JSON line it reads back.
--
--   wrk -t2 -c32 -d10s -s bench/wrk.lua http://127.0.0.1:PORT -- SCENARIO TARGETS LANE LANES THREADS
--
-- SCENARIO: healthz | fp_update | fp_hot_update | vantio_update | vantio_list
-- TARGETS:  a Lua file returning { fp = { {key=, count=}, ... }, vantio = { ... },
--   hot = {key=, first=, count=} } (bench/generate.py); `hot` is the one promoter with many
--   payouts and rewards, its payout ids first .. first + count - 1
-- LANE/LANES: the seeded ids are split into LANES disjoint lanes (warm-up, measurement, the run
--   during reloads); each wrk run writes only its own lane, and within it each thread only its own
--   ids, each one again only after all its others (see owned_number). A thread therefore knows
--   every status it touches and always sends the other one: every status PUT is a real change (a
--   write and an audit event), never a same-status no-op.
--
-- Every response that is not 2xx is counted by response(); done() prints one line,
-- "BENCH_JSON {...}", with that count and wrk's own count of answers >= 400 ("status_errors"),
-- which holds even for an answer response() was not called for.

local threads = {}
local started = 0

function setup(thread)
   thread:set("index", started)
   started = started + 1
   table.insert(threads, thread)
end

function init(args)
   scenario = args[1]
   targets = dofile(args[2])
   local lane = tonumber(args[3] or "0")
   local lanes = tonumber(args[4] or "1")
   local thread_count = tonumber(args[5] or "1")
   modulus = lanes * thread_count
   slot = lane * thread_count + index
   non2xx = 0
   first_error = ""
   sent = 0
   last_status = {}
   math.randomseed(os.time() + 7919 * index + 104729 * lane)
   build = builders[scenario]
   if build == nil then
      error("unknown scenario " .. tostring(scenario))
   end
   if scenario == "fp_hot_update" and targets.hot == nil then
      error("fp_hot_update: the targets file has no hot promoter")
   end
   -- wrk calls request() once on the first thread to check the script and discards the result;
   -- answering that call with a request that changes nothing keeps the status table exact.
   checked = index ~= 0
end

function request()
   if not checked then
      checked = true
      return wrk.format("GET", "/healthz")
   end
   return build()
end

local function gcd(a, b)
   while b ~= 0 do a, b = b, a % b end
   return a
end

-- Each walk visits this thread's share of a lane in a scattered order, every record once per
-- round (a stride coprime with the share's size, from a random start).
local walks = {}

-- A seeded record number in 1..count that belongs to this thread's share of the lane, for the
-- records named `name` (a tenant). A record comes back only after every other one of the share:
-- with random picks, two requests for one record could be in flight on two connections at once,
-- the server may apply them in either order, and the second would then repeat the first status.
local function owned_number(name, count)
   local walk = walks[name]
   if walk == nil then
      local owned = math.floor((count - 1 - slot) / modulus) + 1
      local step = math.floor(owned * 0.618) + 1
      while gcd(step, owned) ~= 1 do step = step + 1 end
      walk = { owned = owned, step = step, position = math.random(owned) - 1 }
      walks[name] = walk
   end
   walk.position = (walk.position + walk.step) % walk.owned
   return slot + modulus * walk.position + 1
end

-- The status to send: the other one of the pair than this thread last sent for the record
-- (records start in the pair's first word).
local function next_status(record, first, second)
   local status = (last_status[record] == second) and first or second
   last_status[record] = status
   return status
end

local function pick(list)
   return list[math.random(#list)]
end

builders = {
   healthz = function()
      return wrk.format("GET", "/healthz")
   end,

   fp_update = function()
      local tenant = pick(targets.fp)
      local id = owned_number(tenant.key, tenant.count)
      local status = next_status(tenant.key .. "/" .. id, "pending", "completed")
      return wrk.format("PUT", "/api/v1/payouts/update?id=" .. id .. "&status=" .. status,
         { ["X-API-KEY"] = tenant.key })
   end,

   -- The same PUT on the hot promoter's payouts only: each answer nests that promoter's
   -- balances, which cover all of its payouts and rewards.
   fp_hot_update = function()
      local hot = targets.hot
      local id = hot.first + owned_number("hot", hot.count) - 1
      local status = next_status(hot.key .. "/" .. id, "pending", "completed")
      return wrk.format("PUT", "/api/v1/payouts/update?id=" .. id .. "&status=" .. status,
         { ["X-API-KEY"] = hot.key })
   end,

   vantio_update = function()
      local tenant = pick(targets.vantio)
      local id = "earn_" .. owned_number(tenant.key, tenant.count)
      local status = next_status(tenant.key .. "/" .. id, "pending", "processing")
      sent = sent + 1
      local body = '{"status":"' .. status .. '","metadata":{"bench_thread":' .. index ..
         ',"bench_sequence":' .. sent .. '}}'
      return wrk.format("PUT", "/api/v1/earnings/" .. id,
         { ["Authorization"] = "Bearer " .. tenant.key, ["Content-Type"] = "application/json" }, body)
   end,

   vantio_list = function()
      local tenant = pick(targets.vantio)
      local offset = math.random(0, math.max(0, tenant.count - 50))
      return wrk.format("GET", "/api/v1/earnings?limit=50&offset=" .. offset,
         { ["Authorization"] = "Bearer " .. tenant.key })
   end,
}

function response(status, headers, body)
   if status < 200 or status > 299 then
      non2xx = non2xx + 1
      if first_error == "" then
         first_error = status .. " " .. string.sub(body or "", 1, 300)
      end
   end
end

local function json_string(text)
   local escaped = string.gsub(text, '[%c"\\]', function(c)
      if c == '"' then return '\\"' end
      if c == "\\" then return "\\\\" end
      return string.format("\\u%04x", string.byte(c))
   end)
   return '"' .. escaped .. '"'
end

function done(summary, latency, requests)
   local bad = 0
   local sample = ""
   for _, thread in ipairs(threads) do
      bad = bad + (tonumber(thread:get("non2xx")) or 0)
      local error_text = thread:get("first_error")
      if sample == "" and error_text ~= nil then sample = error_text end
   end
   local e = summary.errors
   io.write(string.format(
      'BENCH_JSON {"requests":%d,"duration_us":%d,"bytes":%d,"non2xx":%d,' ..
      '"socket_errors":{"connect":%d,"read":%d,"write":%d,"timeout":%d},"status_errors":%d,' ..
      '"latency_us":{"min":%d,"mean":%.1f,"stdev":%.1f,"max":%d,"p50":%d,"p90":%d,"p99":%d,"p999":%d},' ..
      '"first_error":%s}\n',
      summary.requests, summary.duration, summary.bytes, bad,
      e.connect, e.read, e.write, e.timeout, e.status,
      latency.min, latency.mean, latency.stdev, latency.max,
      latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9),
      json_string(sample)))
end
