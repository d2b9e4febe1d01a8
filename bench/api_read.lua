-- wrk script: an analyst's reads, in turn. GET /v1/trace?identity=k8s:sa:bench/app-<k> for the
-- 2,000 identities the ingest script writes to (the identity's grants, and its actions
-- attributed to them); and, when CASE_FIRST..CASE_LAST name cases, also GET /v1/cases/<id> (the
-- case as it stands), GET /v1/cases/<id>/explain (folded afresh from the ledger) and
-- GET /v1/cases?limit=50 (the case list), one of each per trace.
-- Environment: NHITRACE_TOKEN (a reading role); CASE_FIRST, CASE_LAST (optional).
local token = os.getenv("NHITRACE_TOKEN")
local first = tonumber(os.getenv("CASE_FIRST") or "0")
local last = tonumber(os.getenv("CASE_LAST") or "0")
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  bad = 0
  kinds = {"trace"}
  if first > 0 and last >= first then kinds = {"trace", "case", "explain", "list"} end
  turn = math.random(0, #kinds - 1)
  k = math.random(0, 1999)
  c = math.random(0, math.max(last - first, 0))
  wrk.headers["Authorization"] = "Bearer " .. token
end

function request()
  turn = turn % #kinds + 1
  local kind = kinds[turn]
  if kind == "trace" then
    k = (k + 7) % 2000
    return wrk.format("GET", "/v1/trace?identity=k8s%3Asa%3Abench%2Fapp-" .. k)
  elseif kind == "case" then
    c = (c + 13) % (last - first + 1)
    return wrk.format("GET", "/v1/cases/" .. (first + c))
  elseif kind == "explain" then
    return wrk.format("GET", "/v1/cases/" .. (first + c) .. "/explain")
  end
  return wrk.format("GET", "/v1/cases?limit=50")
end

function response(status, headers, body)
  if status ~= 200 then bad = bad + 1 end
end

function done(summary, latency, requests)
  local b = 0
  for _, t in ipairs(threads) do b = b + t:get("bad") end
  local mix = "traces only"
  if first > 0 and last >= first then
    mix = "traces, cases " .. first .. "-" .. last .. ", their explanations and the case list in turn"
  end
  io.write(string.format("reads (%s): %d requests not 200\n", mix, b))
end
