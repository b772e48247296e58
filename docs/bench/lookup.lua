-- wrk script: resolve codes read from $CODES, one after the other, as a scanner would.
local token = os.getenv("TOKEN")
local codes = {}
for line in io.lines(os.getenv("CODES")) do
  codes[#codes + 1] = line
end
local i = 0
function request()
  i = i % #codes + 1
  return wrk.format("GET", "/api/v1/resolve?q=" .. codes[i], { ["authorization"] = "Bearer " .. token })
end
