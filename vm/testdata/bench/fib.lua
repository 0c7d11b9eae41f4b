-- The Lua 5.4 reference for vm/testdata/bench/fib.iasm: recursive fib(30).
local function fib(n)
  if n < 2 then return n end
  return fib(n - 1) + fib(n - 2)
end
assert(fib(30) == 832040)
