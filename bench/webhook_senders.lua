-- wrk's senders for bench/webhooks.py: each connection POSTs the next of the pre-signed
-- deliveries of a file (one a line: the Stripe-Signature header, a tab, the JSON body), each
-- one once; when every delivery is answered the thread stops and writes a marker file, and the
-- bench ends the run (SIGINT: wrk then prints its figures over the time actually run).
--   wrk -t1 -cN -d120s -s bench/webhook_senders.lua URL -- DELIVERIES MARKER STATUS
-- (STATUS: the answer expected, 200, or 400 for forged deliveries; wrk's figures count the
-- requests and their latencies, repeats included; the marker file, the wrong answers)
local requests, sent, answered, wrong, seen = {}, 0, 0, 0, {}
local primed = false
local expected_status = 200

function init(args)
  for line in io.lines(args[1]) do
    local tab = line:find("\t", 1, true)
    local headers = {
      ["Content-Type"] = "application/json",
      ["Stripe-Signature"] = line:sub(1, tab - 1),
      -- echoed back (ops.middleware): tells an answer to a delivery from one to a repeat
      ["X-Request-ID"] = string.format("delivery-%06d", #requests + 1),
    }
    requests[#requests + 1] = wrk.format("POST", nil, headers, line:sub(tab + 1))
    if #requests == 1 then
      headers["X-Request-ID"] = "repeated-delivery"
      repeat_request = wrk.format("POST", nil, headers, line:sub(tab + 1))
    end
  end
  marker = args[2]
  expected_status = tonumber(args[3] or "200")
end

function request()
  -- wrk calls request() once before the run to check it (in the same Lua state here, wrk
  -- 4.1): that call must not use up a delivery.
  if not primed then
    primed = true
    return requests[1]
  end
  sent = sent + 1
  -- Past the last delivery (the other connections' last answers are still coming), the
  -- connection repeats the first one: a duplicate, in wrk's figures but not waited for.
  return requests[sent] or repeat_request
end

function response(status, headers, body)
  local id = headers["X-Request-ID"] or headers["x-request-id"] or ""
  if id:sub(1, 9) ~= "delivery-" or seen[id] then return end
  seen[id] = true
  answered = answered + 1
  if status ~= expected_status then wrong = wrong + 1 end
  if answered == #requests then
    local out = io.open(marker, "w")
    out:write(string.format("%d\n", wrong))
    out:close()
    wrk.thread:stop()
  end
end

function done(summary, latency, requests_)
  io.write(string.format(
    "RESULT requests=%d duration_us=%d p50_us=%d p99_us=%d errors=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    summary.errors.connect + summary.errors.read + summary.errors.write
      + summary.errors.timeout))
end
