-- mandelbrot: how many points of a 768 x 512 grid over [-2, 1) x [-1, 1)
-- stay within |z| <= 2 for 100 iterations of z = z*z + c.
local W, H, step, iters = 768, 512, 0.00390625, 100 -- param
local xmin, ymin, inside = -2.0, -1.0, 0
for y = 0, H - 1 do
  local ci = ymin + y * step
  for x = 0, W - 1 do
    local cr = xmin + x * step
    local zr, zi, escaped = 0.0, 0.0, false
    for _ = 1, iters do
      local zr2, zi2 = zr * zr, zi * zi
      if zr2 + zi2 > 4.0 then escaped = true break end
      zi = 2.0 * zr * zi + ci
      zr = zr2 - zi2 + cr
    end
    if not escaped then inside = inside + 1 end
  end
end
print(inside)
