-- GET a search for a random term found in product names. args: helpers, terms file.
local lines
local terms

function init(args)
  lines = dofile(args[1])
  terms = lines.read(args[2])
  math.randomseed(os.time() + math.floor(os.clock() * 1e6))
end

function request()
  return wrk.format("GET", "/api/v1/search?q=" .. lines.pick(terms))
end
