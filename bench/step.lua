-- wrk script for bench/request-overhead.sh: POSTs one JSON Adam step per request, each wrk thread on its own
-- session (SESSION_IDS, comma-separated), and counts answers other than 200 so a failing run cannot pass for fast.
-- AUTHORIZATION, when set, is sent as the Authorization header (a service with API keys: "Bearer <key>").
local ids = {}
for id in string.gmatch(os.getenv("SESSION_IDS"), "[^,]+") do ids[#ids + 1] = id end
local threads = {}

function setup(thread)
  thread:set("id", ids[#threads % #ids + 1])
  table.insert(threads, thread)
end

function init(args)
  failures = 0
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  local authorization = os.getenv("AUTHORIZATION")
  if authorization and authorization ~= "" then wrk.headers["Authorization"] = authorization end
  wrk.body = os.getenv("STEP_BODY")
  req = wrk.format(nil, "/v1/sessions/" .. id .. "/steps")
end

function request()
  return req
end

function response(status, headers, body)
  if status ~= 200 then failures = failures + 1 end
end

function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do total = total + thread:get("failures") end
  io.write(string.format("non-200 answers: %d\n", total))
end
