%% ring: as ring.iasm, N processes pass a token, each adding one, until
%% it has made HOPS hops.
-module(bench_ring).
-export([main/1]).

main([NS, HS]) ->
    N = list_to_integer(NS),
    Hops = list_to_integer(HS),
    Last = lists:foldl(fun(_, Next) -> spawn(fun() -> hop(Next) end) end, self(), lists:seq(1, N)),
    Last ! 0,
    loop(Last, Hops),
    halt().

hop(Next) ->
    receive X -> Next ! X + 1, hop(Next) end.

loop(Last, Hops) ->
    receive
        X when X >= Hops -> io:format("~p~n", [X]);
        X -> Last ! X, loop(Last, Hops)
    end.
