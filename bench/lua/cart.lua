-- A signed-in shopper adds one unit of a product. args: helpers, tokens file, ids file.
local lines
local tokens
local ids

function init(args)
  lines = dofile(args[1])
  tokens = lines.read(args[2])
  ids = lines.read(args[3])
  math.randomseed(os.time() + math.floor(os.clock() * 1e6))
end

function request()
  local body = '{"product_id": ' .. lines.pick(ids) .. ', "quantity": 1}'
  return wrk.format("POST", "/api/v1/cart/items", {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. lines.pick(tokens),
  }, body)
end
