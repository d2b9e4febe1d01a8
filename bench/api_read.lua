-- wrk script: GET /v1/trace?identity=k8s:sa:bench/app-<k> for the 2,000 identities the ingest
-- script writes to (the identity's grants, and its actions attributed to them).
-- Environment: NHITRACE_TOKEN (a reading role).
local token = os.getenv("NHITRACE_TOKEN")
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  bad = 0
  k = math.random(0, 1999)
  wrk.headers["Authorization"] = "Bearer " .. token
end

function request()
  k = (k + 7) % 2000
  return wrk.format("GET", "/v1/trace?identity=k8s%3Asa%3Abench%2Fapp-" .. k)
end

function response(status, headers, body)
  if status ~= 200 then bad = bad + 1 end
end

function done(summary, latency, requests)
  local b = 0
  for _, t in ipairs(threads) do b = b + t:get("bad") end
  io.write(string.format("reads: %d requests not 200\n", b))
end
