%% spawn: as spawn.iasm, start N processes that each send ready to the
%% first and wait; the first collects the readies in batches of 1,000.
-module(bench_spawn).
-export([main/1]).

main([NS]) ->
    N = list_to_integer(NS),
    batches(N, self()),
    io:format("~p~n", [N]),
    halt().

batches(0, _) -> ok;
batches(N, Self) ->
    B = min(N, 1000),
    [spawn(fun() -> Self ! ready, receive _ -> ok end end) || _ <- lists:seq(1, B)],
    acks(B),
    batches(N - B, Self).

acks(0) -> ok;
acks(B) -> receive ready -> acks(B - 1) end.
