-- wrk hook for Lambda's Invoke API: every request POSTs one small JSON event (the same bytes as
-- lambda_bench.INVOKE_EVENT, whose answer is checked before the load), then prints the same JSON
-- summary line as report.lua.
wrk.method = "POST"
wrk.body = '{"greeter":"me"}'
wrk.headers["Content-Type"] = "application/json"

-- report.lua sits beside this file; wrk resolves dofile paths against its working directory.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "report.lua")
