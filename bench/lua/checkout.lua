-- Each request checks out the cart of a different pre-made shopper, with its own
-- Idempotency-Key. args: helpers, tokens file, number of wrk threads, request body file.
-- Threads take interleaved shoppers (thread t: t+1, t+1+n, ...), so none is used twice.
local threads = {}

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

local lines
local tokens
local body
local step
local next_index

function init(args)
  lines = dofile(args[1])
  tokens = lines.read(args[2])
  step = tonumber(args[3])
  body = lines.read(args[4])[1]
  next_index = tid + 1
  created = 0
  refused = 0
  exhausted = 0
end

function request()
  local index = next_index
  next_index = next_index + step
  if index > #tokens then
    exhausted = 1
    index = ((index - 1) % #tokens) + 1 -- answered 409 (empty cart), counted as refused
  end
  return wrk.format("POST", "/api/v1/orders/checkout", {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. tokens[index],
    ["Idempotency-Key"] = "bench-" .. index,
  }, body)
end

function response(status, headers, response_body)
  if status == 201 then created = created + 1 else refused = refused + 1 end
end

function done(summary, latency, requests)
  local totals = {created = 0, refused = 0, exhausted = 0}
  for _, thread in ipairs(threads) do
    for name in pairs(totals) do totals[name] = totals[name] + thread:get(name) end
  end
  io.write(string.format("checkout created=%d refused=%d exhausted=%d\n",
                         totals.created, totals.refused, totals.exhausted))
end
