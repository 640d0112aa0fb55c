#!/bin/sh
# deps.sh - install the Debian packages agentutils needs to build, test
# and demonstrate itself ("make deps"; "make check" and "make demo" run it
# first).  Installs only what is missing, after one "apt-get update".
# Not root: prints the exact command and exits 69.  Nothing is downloaded
# by hand and nothing is vendored.  "deps.sh fuzz" ("make fuzz") looks
# after the fuzzing toolchain alone, which "make check" never needs.
# "deps.sh npm" (make deps, after the packages) installs the MCP reference
# servers, SDK and inspector that tests/mcp-interop.bats runs the gateway
# against, with npm ci at the versions tests/interop/package-lock.json
# pins, when they are missing or older than the lock; where npm cannot
# fetch them it says so and the suite skips, saying why.
set -eu

# build: the compiler, and the libraries the programs link
build="gcc make libc6-dev libjq-dev libonig-dev libsqlite3-dev libssl-dev
    libarchive-dev libcurl4-openssl-dev
    libmagic-dev libexif-dev libavformat-dev libavcodec-dev libavutil-dev
    libmicrohttpd-dev libcmark-gfm-dev libcmark-gfm-extensions-dev
    libxlsxwriter-dev libxml2-dev libvterm-dev"
# run: what the programs call (tg-invoke's sandbox)
run="firejail"
# check: the test drivers, the oracles they compare against, the shells
# the completions are for, and the tools the tests call (slurm-wlm and
# munge: the single-node cluster of tests/aw-sched-slurm.bats; nodejs:
# the MCP reference servers of tests/mcp-interop.bats)
check="bats bats-assert bats-support mandoc python3 python3-jsonschema
    jq sqlite3 graphviz zsh fish bsdextrautils binutils pkg-config
    openssl unzip curl
    imagemagick libimage-exiftool-perl sox ffmpeg chromium
    pandoc libreoffice-calc-nogui libreoffice-writer-nogui
    libreoffice-impress-nogui poppler-utils libxml2-utils
    asciinema bsdutils procps vim
    slurm-wlm munge nodejs"
# bench and demo (GNU parallel is a peer of aw-sched in tests/bench)
other="time coreutils parallel"
# fuzz: clang and its libFuzzer and sanitizer runtimes (tests/fuzz)
fuzz="clang-14 libclang-rt-14-dev"
want="$build $run $check $other"
# npm is a package of its own in Debian, a part of nodejs elsewhere
command -v npm >/dev/null 2>&1 || want="$want npm"
case ${1:-} in
fuzz)
	want=$fuzz
	;;
npm)
	top=$(cd "$(dirname "$0")/.." && pwd)
	lock=$top/tests/interop/package-lock.json
	have=$top/tests/interop/node_modules/.package-lock.json
	[ ! -e "$have" ] || [ "$lock" -nt "$have" ] || exit 0
	echo "deps: npm ci in tests/interop"
	npm ci --prefix "$top/tests/interop" --no-audit --no-fund \
	    --loglevel=error >&2 || echo "deps: npm ci failed:" \
	    "tests/mcp-interop.bats will be skipped" >&2
	exit 0
	;;
esac

if ! command -v dpkg-query >/dev/null 2>&1; then
	echo "deps: not a Debian system; install the equivalents of:" >&2
	echo "  $want" | tr -s ' \n' '  ' >&2
	echo >&2
	exit 69
fi

# One dpkg-query for them all: one a package took 16 s in all on a busy
# machine, before every make demo and make check.
# shellcheck disable=SC2086 # the lists, split into packages on purpose
missing=$(dpkg-query -W -f='${Package} ${Status}\n' $want 2>/dev/null |
    awk -v want="$want" '$NF == "installed" { ok[$1] = 1 }
	END { n = split(want, w, " ")
	      for (i = 1; i <= n; i++) if (!(w[i] in ok)) printf " %s", w[i] }')
[ -n "$missing" ] || exit 0

install="apt-get install -y --no-install-recommends$missing"
if [ "$(id -u)" != 0 ]; then
	echo "deps: missing Debian packages:$missing" >&2
	echo "deps: run as root: apt-get update && $install" >&2
	exit 69
fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
$install
