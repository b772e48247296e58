-- wrk script (one thread): triage each seeded item once, from $FIRST_ID to $LAST_ID,
-- with its idempotency key and expected version.
local token = os.getenv("TOKEN")
local id = tonumber(os.getenv("FIRST_ID")) - 1
local last = tonumber(os.getenv("LAST_ID"))
local version = os.getenv("VERSION")
function request()
  if id < last then id = id + 1 end
  local body = string.format(
    '{"idempotency_key":"wrk-%d","expected_version":%s,"command":{"type":"triage","route":"refurbish"}}',
    id, version)
  return wrk.format("POST", "/api/v1/items/" .. id .. "/events",
    { ["content-type"] = "application/json", ["authorization"] = "Bearer " .. token }, body)
end
function done(summary, latency, requests)
  io.write(string.format("non-200 answers: %d\n", summary.errors.status))
end
