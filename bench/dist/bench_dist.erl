%% bench_dist: the cross-node workloads of bench/dist/run.sh for two
%% Erlang nodes: pingpong (N round trips between a process here and an
%% echo process on node Peer) and stream (N messages one way to a
%% counter on Peer, which answers once it has them all). Each prints the
%% rate it measured, per second, from its own clock.
-module(bench_dist).
-export([pingpong/1, stream/1, echo/0, counter/2]).

pingpong([PeerS, NS]) ->
    Peer = list_to_atom(PeerS),
    N = list_to_integer(NS),
    Echo = spawn(Peer, ?MODULE, echo, []),
    Echo ! {self(), 0},
    receive 0 -> ok end,
    T0 = erlang:monotonic_time(microsecond),
    ping(Echo, 1, N),
    T1 = erlang:monotonic_time(microsecond),
    io:format("pingpong ~b round trips/s~n", [N * 1000000 div max(1, T1 - T0)]),
    halt().

ping(_, I, N) when I > N -> ok;
ping(Echo, I, N) ->
    Echo ! {self(), I},
    receive I -> ping(Echo, I + 1, N) end.

echo() ->
    receive {From, X} -> From ! X, echo() end.

stream([PeerS, NS]) ->
    Peer = list_to_atom(PeerS),
    N = list_to_integer(NS),
    Counter = spawn(Peer, ?MODULE, counter, [self(), N]),
    T0 = erlang:monotonic_time(microsecond),
    send(Counter, 1, N),
    receive done -> ok end,
    T1 = erlang:monotonic_time(microsecond),
    io:format("stream ~b messages/s~n", [N * 1000000 div max(1, T1 - T0)]),
    halt().

send(_, I, N) when I > N -> ok;
send(C, I, N) -> C ! I, send(C, I + 1, N).

counter(From, 0) -> From ! done;
counter(From, N) -> receive _ -> counter(From, N - 1) end.
