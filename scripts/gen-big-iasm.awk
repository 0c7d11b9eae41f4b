# Writes n lines of assembly for the assembler benchmark, the same as
# benchSource in vm/asm/bench_test.go: awk -v n=1000000 -f scripts/gen-big-iasm.awk > big.iasm
BEGIN {
  for (k = 0; k < n/8; k++) {
    printf "b%d: load $1 #%d\n", k, k%1000
    print "    add $1 $2 $3"
    print "    inc $1"
    print "    lt $1 $2"
    printf "    djmpe @b%d\n", k
    print "    loadf64 $f1 #1.5"
    print "    ; the body of block"
    printf "    call @b%d\n", k
  }
}
