-- wrk script (one thread): triage each seeded item once, from $FIRST_ID to $LAST_ID,
-- with its idempotency key and expected version. Past $LAST_ID it sends an empty
-- request for item 0, which is refused: a run longer than its items shows as non-200
-- answers instead of counting replays of the last item.
local token = os.getenv("TOKEN")
local id = tonumber(os.getenv("FIRST_ID")) - 1
local last = tonumber(os.getenv("LAST_ID"))
local version = os.getenv("VERSION")
function request()
  id = id + 1
  if id > last then
    return wrk.format("POST", "/api/v1/items/0/events",
      { ["content-type"] = "application/json", ["authorization"] = "Bearer " .. token }, "{}")
  end
  local body = string.format(
    '{"idempotency_key":"wrk-%d","expected_version":%s,"command":{"type":"triage","route":"refurbish"}}',
    id, version)
  return wrk.format("POST", "/api/v1/items/" .. id .. "/events",
    { ["content-type"] = "application/json", ["authorization"] = "Bearer " .. token }, body)
end
function done(summary, latency, requests)
  io.write(string.format("non-200 answers: %d\n", summary.errors.status))
end
