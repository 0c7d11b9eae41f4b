-- Two nested loops of 10,000 rounds; s counts the inner rounds.
local outer, inner, s = 10000, 10000, 0 -- param
for _ = 1, outer do
  for _ = 1, inner do s = s + 1 end
end
print(s)
