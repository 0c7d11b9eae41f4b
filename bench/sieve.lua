-- sieve: the primes below 1,000,000 by the sieve of Eratosthenes, 10 times.
local N, rounds = 1000000, 10 -- param
local composite, count = {}, 0
for _ = 1, rounds do
  count = 0
  for i = 2, N - 1 do composite[i] = false end
  for i = 2, N - 1 do
    if not composite[i] then
      count = count + 1
      for j = i * i, N - 1, i do composite[j] = true end
    end
  end
end
print(count)
