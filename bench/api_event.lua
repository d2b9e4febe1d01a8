-- wrk script: GET /v1/events/<seq> over the first SEQS (default 10000) events: one indexed row,
-- its raw record and its audit row per request, so the HTTP, authentication and routing cost
-- shows without a trace's computation. Environment: NHITRACE_TOKEN (a reading role), SEQS.
local token = os.getenv("NHITRACE_TOKEN")
local seqs = tonumber(os.getenv("SEQS") or "10000")
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  bad = 0
  k = math.random(0, seqs - 1)
  wrk.headers["Authorization"] = "Bearer " .. token
end

function request()
  k = (k + 7919) % seqs
  return wrk.format("GET", "/v1/events/" .. k)
end

function response(status, headers, body)
  if status ~= 200 then bad = bad + 1 end
end

function done(summary, latency, requests)
  local b = 0
  for _, t in ipairs(threads) do b = b + t:get("bad") end
  io.write(string.format("event reads: %d requests not 200\n", b))
end
