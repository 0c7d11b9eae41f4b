%% pingpong: as pingpong.iasm, N round trips to an echo process.
-module(bench_pingpong).
-export([main/1]).

main([NS]) ->
    N = list_to_integer(NS),
    Echo = spawn(fun echo/0),
    io:format("~p~n", [loop(Echo, 1, N, 0)]),
    halt().

echo() ->
    receive {From, X} -> From ! X, echo() end.

loop(_, I, N, Last) when I > N -> Last;
loop(Echo, I, N, _) ->
    Echo ! {self(), I},
    receive X -> loop(Echo, I + 1, N, X) end.
