-- wrk script: POST /v1/ingest with batches of BATCH native events, every event new.
-- Environment: NHITRACE_TOKEN (ingest role), BATCH (default 1000), RUN (a prefix that makes the
-- source ids of this run unique).
local token = os.getenv("NHITRACE_TOKEN")
local batch = tonumber(os.getenv("BATCH") or "1000")
local run = os.getenv("RUN") or "run"
local threads = {}
local counter = 1

function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  n = 0
  accepted = 0
  failed = 0
  wrk.method = "POST"
  wrk.headers["Authorization"] = "Bearer " .. token
  wrk.headers["Content-Type"] = "application/x-ndjson"
end

-- 199 of 200 events are actions of one of 2,000 workload identities (no request id, as real
-- actions carry none); 1 of 200 is a request naming one of them, with a request id of its own.
local action = '{"v":1,"kind":"action","source":{"system":"bench","event_id":"%s-%d-%d-%d"},' ..
  '"time":"2026-03-02T09:%02d:%02d.%03dZ","identity":"k8s:sa:bench/app-%d",' ..
  '"actor":{"id":"k8s:sa:bench/app-%d","type":"nhi"},"scope":{"resources":["arn:aws:s3:::bucket-%d/*"],' ..
  '"permissions":["s3:GetObject"]},"attributes":{"pad":"0123456789abcdef0123456789abcdef"}}\n'
local req = '{"v":1,"kind":"request","source":{"system":"bench","event_id":"%s-%d-%d-%d"},' ..
  '"time":"2026-03-02T09:%02d:%02d.%03dZ","correlation_key":"REQ-%s-%d-%d-%d",' ..
  '"identity":"k8s:sa:bench/app-%d","actor":{"id":"dev@example.com","type":"human"},' ..
  '"scope":{"resources":["arn:aws:s3:::bucket-%d/*"],"permissions":["s3:GetObject"]}}\n'

function request()
  n = n + 1
  local lines = {}
  for i = 1, batch do
    local k = n * batch + i
    local mm, ss, ms = math.floor(k / 60000) % 60, math.floor(k / 1000) % 60, k % 1000
    if i % 200 == 0 then
      lines[i] = string.format(req, run, tid, n, i, mm, ss, ms, run, tid, n, i, k % 2000, k % 50)
    else
      lines[i] = string.format(action, run, tid, n, i, mm, ss, ms, k % 2000, k % 2000, k % 50)
    end
  end
  return wrk.format(nil, "/v1/ingest", nil, table.concat(lines))
end

function response(status, headers, body)
  if status ~= 200 then
    failed = failed + 1
    return
  end
  local a = body:match('"accepted":(%d+)')
  accepted = accepted + tonumber(a or "0")
end

function done(summary, latency, requests)
  local total, bad = 0, 0
  for _, t in ipairs(threads) do
    total = total + t:get("accepted")
    bad = bad + t:get("failed")
  end
  local secs = summary.duration / 1e6
  io.write(string.format("ingest: %d events accepted in %.1f s = %.0f events/s; %d requests not 200\n",
    total, secs, total / secs, bad))
end
