-- GET a random product of the catalog. args: helpers, ids file.
local lines
local ids

function init(args)
  lines = dofile(args[1])
  ids = lines.read(args[2])
  math.randomseed(os.time() + math.floor(os.clock() * 1e6))
end

function request()
  return wrk.format("GET", "/api/v1/products/" .. lines.pick(ids))
end
