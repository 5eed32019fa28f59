-- Helpers the scenario scripts share (loaded with dofile).
local M = {}

function M.read(path)
  local lines = {}
  for line in io.lines(path) do lines[#lines + 1] = line end
  return lines
end

function M.pick(list)
  return list[math.random(#list)]
end

return M
