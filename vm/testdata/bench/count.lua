-- The Lua 5.4 reference for vm/testdata/bench/count.iasm: count to 100 million.
local n, N = 0, 100000000
while n ~= N do n = n + 1 end
assert(n == N)
