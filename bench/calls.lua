-- calls: 50 million calls of a function that adds one to s.
local function f(x) return x + 1 end
local s = 0
for _ = 1, 50000000 do s = f(s) end -- param
print(s)
