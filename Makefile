# Iridium: `make run` builds and starts the REPL, `make test` runs every check.
GO      ?= go
BIN     := bin/iridium
ARGS    ?=
FUZZTIME ?= 60s

.PHONY: all build run test test-race check-format vet test-deps bench bench-vs-lua bench-procs bench-dist bench-idle fuzz install clean

all: build

## build: compile bin/iridium, the whole command in one binary, static (no
## cgo: the pure-Go resolver and user lookup; a cgo binary starts about
## 7 ms slower; docs/performance.md, "Start-up"), with the wire codec
## without its fast paths, which no message uses (a binary 8 MB smaller
## that starts 2 to 3 ms sooner; docs/performance.md, "Wire codec").
GOTAGS := codec.notfastpath
build:
	CGO_ENABLED=0 $(GO) build -tags $(GOTAGS) -o $(BIN) ./cmd/iridium

## run: build, then start Iridium (the REPL; ARGS="file.iasm" runs a file)
run: build
	./$(BIN) $(ARGS)

## test: formatting, go vet, every test once without the race detector,
## the binary under test included (the fuzz seed corpora in testdata/ are
## replayed as ordinary tests). Tests wait on timers and other processes
## more than they compute, so TEST_PARALLEL of them run at once in each
## package, not one per core. With CI=true the race run follows.
TEST_PARALLEL ?= 8
test: test-deps check-format vet
	$(GO) test -count=1 -parallel $(TEST_PARALLEL) -timeout 8m ./...
ifeq ($(CI),true)
	$(RACE_TEST)
endif

## test-race: the checks of test, and every test with the race detector,
## which the binary under test is built with too. It runs one test per
## core at once: the detector multiplies CPU time several times, and
## timeouts of a few seconds must still hold.
RACE_TEST = $(GO) test -race -count=1 -timeout 20m ./...
test-race: test-deps check-format vet
	$(RACE_TEST)

check-format:
	@unformatted=$$(gofmt -l .); if [ -n "$$unformatted" ]; then \
		echo "gofmt would change these files (run gofmt -w):"; echo "$$unformatted"; exit 1; fi

vet:
	$(GO) vet ./...

## test-deps: what tests need beyond Go: ip (iproute2) for the network-cut
## test, tmux for the cluster demo test, ssh and ssh-keygen (openssh-client)
## for the remote-access tests. Installed when missing and we are
## root with apt-get; otherwise those tests skip and say why.
test-deps:
	@missing=""; \
	command -v ip >/dev/null 2>&1 || missing="$$missing iproute2"; \
	command -v tmux >/dev/null 2>&1 || missing="$$missing tmux"; \
	{ command -v ssh >/dev/null 2>&1 && command -v ssh-keygen >/dev/null 2>&1; } || missing="$$missing openssh-client"; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			echo "installing$$missing"; \
			(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing) >/dev/null || \
				echo "could not install$$missing; the tests that need them will skip"; \
		else \
			echo "not installed:$$missing (needs root); the tests that need them will skip"; \
		fi; \
	fi

## bench: the VM suite's benchmarks, 10 runs each, into bench.txt (compare
## with benchstat); BenchmarkHeap16Jobs is run alone (docs/performance.md)
bench:
	$(GO) test -run '^$$' -bench Suite -count 10 ./vm/ | tee bench.txt

## bench-idle: the CPU of an idle mesh of real nodes (50, then 100, each
## over 30 s) and failure detection at 50 (scripts/idle-mesh.sh); two
## builds side by side: scripts/idle-mesh-ab.sh (docs/performance.md)
bench-idle: build
	scripts/idle-mesh.sh 50 30
	DETECT=0 scripts/idle-mesh.sh 100 30

## bench-vs-lua: the suite in bench/ side by side with C Lua 5.4 and
## luajit -joff (median CPU time, ratios; RUNS=n runs each, default 5).
## Installs lua5.4 and luajit from Debian when missing and we are root.
bench-vs-lua:
	@scripts/need-packages.sh lua5.4=lua5.4 luajit=luajit
	GO=$(GO) bench/run.sh

## bench-procs: the process workloads of bench/procs (spawn, ring,
## ping-pong) side by side with Erlang/OTP, as ratios (RUNS=n rounds,
## default 5). Installs erlang-base (and time) from Debian when missing
## and we are root.
bench-procs:
	@scripts/need-packages.sh erl=erlang-base /usr/bin/time=time
	GO=$(GO) bench/procs/run.sh

## bench-dist: messages between two nodes on loopback (bench/dist:
## ping-pong, one-way stream) side by side with two Erlang/OTP nodes and
## the loopback floor, a bare TCP echo (RUNS=n rounds, default 3).
## Installs erlang-base when missing and we are root.
bench-dist:
	@scripts/need-packages.sh erl=erlang-base
	GO=$(GO) bench/dist/run.sh

## fuzz: run each fuzz target for FUZZTIME (default 60s)
fuzz:
	cd vm && $(GO) test -run '^$$' -fuzz '^FuzzExec$$' -fuzztime $(FUZZTIME) .
	cd vm && $(GO) test -run '^$$' -fuzz '^FuzzDecodeProgram$$' -fuzztime $(FUZZTIME) .
	cd vm && $(GO) test -run '^$$' -fuzz '^FuzzProcessInstructions$$' -fuzztime $(FUZZTIME) .
	cd proc && $(GO) test -run '^$$' -fuzz '^FuzzScheduler$$' -fuzztime $(FUZZTIME) .
	cd vm/asm && $(GO) test -run '^$$' -fuzz '^FuzzAssemble$$' -fuzztime $(FUZZTIME) .
	cd jobs && $(GO) test -run '^$$' -fuzz '^FuzzPayload$$' -fuzztime $(FUZZTIME) .
	cd remote && $(GO) test -run '^$$' -fuzz '^FuzzParseAuthorizedKeys$$' -fuzztime $(FUZZTIME) .
	cd cluster && $(GO) test -run '^$$' -fuzz '^FuzzDecodeFrame$$' -fuzztime $(FUZZTIME) .
	cd cluster && $(GO) test -run '^$$' -fuzz '^FuzzParseJoinAddr$$' -fuzztime $(FUZZTIME) .
	cd cluster && $(GO) test -run '^$$' -fuzz '^FuzzCheckCookie$$' -fuzztime $(FUZZTIME) .
	cd dist && $(GO) test -run '^$$' -fuzz '^FuzzDecodeFrame$$' -fuzztime $(FUZZTIME) .
	cd names && $(GO) test -run '^$$' -fuzz '^FuzzAnswers$$' -fuzztime $(FUZZTIME) .
	cd repl && $(GO) test -run '^$$' -fuzz '^FuzzReadPipedProgram$$' -fuzztime $(FUZZTIME) .

## install: go install the iridium command (static, as build)
install:
	CGO_ENABLED=0 $(GO) install -tags $(GOTAGS) ./cmd/iridium

clean:
	rm -rf bin bench.txt
