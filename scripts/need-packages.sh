#!/bin/sh
# scripts/need-packages.sh PROGRAM=PACKAGE...: for each PROGRAM not found
# (a name on $PATH, or an absolute path that is not executable), install
# the Debian PACKAGE that has it, when we are root with apt-get; else say
# what is missing and fail. The Makefile's benchmark targets use it.
missing=""
for pair in "$@"; do
  prog=${pair%%=*}
  case $prog in
    /*) [ -x "$prog" ] && continue ;;
    *) command -v "$prog" >/dev/null 2>&1 && continue ;;
  esac
  missing="$missing ${pair#*=}"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing$missing"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
else
  echo "not installed:$missing (needs root to install)"
  exit 1
fi
