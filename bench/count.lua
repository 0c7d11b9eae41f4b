-- count: n counts from 0 to 100 million.
local n, N = 0, 100000000 -- param
while n ~= N do n = n + 1 end
print(n)
