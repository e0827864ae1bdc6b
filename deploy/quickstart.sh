#!/usr/bin/env bash
# deploy/quickstart.sh - slad on this machine in one command (README).
#
# usage: deploy/quickstart.sh [--port N] [--no-build] [--help]
#
# On Debian 12: installs the packages that are missing, builds into build/,
# and under var/ in the checkout makes (or reuses, on every later run):
#   var/pg                a private PostgreSQL cluster (tests/lib/pg.sh; run as an
#                         unprivileged user, in /var/tmp/slad-<hash>/ when that user
#                         cannot reach the checkout, with var/pg a symlink to it)
#   var/certs             a development CA, the server certificate and one client
#                         certificate per role: hotline, engineer, monitor, admin
#   var/slad.conf         slad's configuration: these principals and a demo customer
#                         with a contract are seeded on slad's first start
#   var/slactl-profiles   one slactl profile per role
# then prints how to connect with slactl as each role and runs slad in the
# foreground on 127.0.0.1.  Ctrl-C (or SIGTERM) stops slad, then PostgreSQL.
#
#   --port N     slad's TLS port (default 7443)
#   --no-build   use the binaries already in build/
#
# Environment: SLAD_BUILD_DIR (default build), SLAD_VAR_DIR (default var).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
port=7443
port_given=false
build=true
build_dir=${SLAD_BUILD_DIR:-$top/build}
var=${SLAD_VAR_DIR:-$top/var}
slad_pid=
ROLES=(hotline engineer monitor admin)

# shellcheck source=tests/lib/packages.sh
. "$top/tests/lib/packages.sh"
# shellcheck source=tests/lib/pg.sh
. "$top/tests/lib/pg.sh"

say() {
	printf 'quickstart: %s\n' "$*" >&2
}

die() {
	say "$*"
	exit 1
}

usage() {
	sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"
}

parse_args() {
	while [ "$#" -gt 0 ]; do
		case $1 in
		--port)
			[ "$#" -ge 2 ] || die "--port needs a number"
			port=$2
			port_given=true
			shift
			;;
		--port=*)
			port=${1#--port=}
			port_given=true
			;;
		--no-build) build=false ;;
		-h | --help)
			usage
			exit 0
			;;
		*) die "unknown argument $1 (see --help)" ;;
		esac
		shift
	done
	if ! [[ $port =~ ^[0-9]+$ ]] || [ "$port" -lt 1 ] || [ "$port" -gt 65535 ]; then
		die "--port wants 1..65535, not $port"
	fi
}

# show PATH: relative to the checkout when the reader stands in it, so the
# printed commands are short enough to copy.
show() {
	if [ "$PWD" = "$top" ] && [ "${1#"$top"/}" != "$1" ]; then
		printf '%s\n' "${1#"$top"/}"
	else
		printf '%s\n' "$1"
	fi
}

build_tree() {
	if [ "$build" = false ]; then
		return 0
	fi
	say "building into $(show "$build_dir")"
	cmake -S "$top" -B "$build_dir" >/dev/null
	cmake --build "$build_dir" -j "$(nproc)"
}

# set_key FILE KEY VALUE: replace the first active `KEY = ...` line, or add
# one, so a configuration the user or the example file laid out keeps its shape.
set_key() {
	local file=$1 key=$2 value=$3 tmp
	tmp=$(mktemp "$file.XXXXXX")
	awk -v key="$key" -v line="$key = $value" '
		!done && $0 ~ "^[ \t]*" key "[ \t]*=" { print line; done = 1; next }
		{ print }
		END { if (!done) print line }
	' "$file" >"$tmp"
	mv -- "$tmp" "$file"
}

# set_seeds FILE: our principal seeds replace any others; repeated key.
set_seeds() {
	local file=$1 tmp
	tmp=$(mktemp "$file.XXXXXX")
	grep -v '^[[:space:]]*seed_principal[[:space:]]*=' "$file" >"$tmp" || true
	cat >>"$tmp" <<-'EOF'
		seed_principal = hotline role=hotline
		seed_principal = engineer role=engineer team=north region=east tier=engineer
		seed_principal = monitor role=monitor
		seed_principal = admin role=admin
	EOF
	mv -- "$tmp" "$file"
}

# write_config: made once, from deploy/slad.conf.example when there is one.
# Later runs only refresh what this script owns and may have moved: the
# database's port, and the listen address when --port was given.
write_config() {
	local conf=$var/slad.conf certs=$var/certs db
	db=$(pg_private_conninfo "$var/pg")
	if [ ! -f "$conf" ]; then
		say "writing $(show "$conf")"
		if [ -f "$top/deploy/slad.conf.example" ]; then
			cp -- "$top/deploy/slad.conf.example" "$conf"
		else
			printf '%s\n' "# slad configuration written by deploy/quickstart.sh" \
				"# one 'key = value' per line; '#' starts a comment" >"$conf"
		fi
		set_key "$conf" listen "127.0.0.1:$port"
		set_key "$conf" tls_cert "$certs/server.crt"
		set_key "$conf" tls_key "$certs/server.key"
		set_key "$conf" tls_ca "$certs/ca.crt"
		set_key "$conf" database "$db"
		# The private cluster is a throw-away development database.
		set_key "$conf" dev_database true
		set_key "$conf" seed_demo true
		set_seeds "$conf"
		chmod 0600 "$conf"
		return 0
	fi
	set_key "$conf" database "$db"
	if [ "$port_given" = true ]; then
		set_key "$conf" listen "127.0.0.1:$port"
	fi
}

# listen_port: what slad will listen on, as the config says (the user may
# have edited it), for the printed commands and profiles.
listen_port() {
	sed -n 's/[[:space:]]*#.*//; s/^[[:space:]]*listen[[:space:]]*=.*:\([0-9][0-9]*\)$/\1/p' \
		"$var/slad.conf" | head -n 1
}

write_profiles() {
	local file=$var/slactl-profiles role
	{
		echo "# slactl profiles for the quick start (written by deploy/quickstart.sh)"
		for role in "${ROLES[@]}"; do
			printf '\n[%s]\n' "$role"
			printf '%s\n' "host = 127.0.0.1" "port = $1" "ca = $var/certs/ca.crt" \
				"cert = $var/certs/$role.crt" "key = $var/certs/$role.key"
		done
	} >"$file"
}

print_howto() {
	local p=$1 slactl role
	slactl=$(show "$build_dir/proto/slactl")
	cat <<-EOF

		==== slad is starting on 127.0.0.1:$p; Ctrl-C stops it and its PostgreSQL.

		Connect with slactl as each role:
	EOF
	for role in "${ROLES[@]}"; do
		printf '  %s --host 127.0.0.1 --port %s --ca %s --cert %s --key %s hello\n' \
			"$slactl" "$p" "$(show "$var/certs/ca.crt")" \
			"$(show "$var/certs/$role.crt")" "$(show "$var/certs/$role.key")"
	done
	cat <<-EOF

		Or with the profiles in $(show "$var/slactl-profiles") (copy it to
		~/.config/slactl/profiles to make it your default):
		  export SLACTL_PROFILES=$var/slactl-profiles
		  $slactl --profile engineer list

		PostgreSQL: psql "$(pg_private_conninfo "$var/pg")"
		Configuration: $(show "$var/slad.conf")

	EOF
}

# cleanup: on every exit.  slad first (it may still have commits in flight),
# then its database.
cleanup() {
	local i
	trap - INT TERM HUP
	if [ -n "$slad_pid" ] && kill -0 "$slad_pid" 2>/dev/null; then
		kill -TERM "$slad_pid" 2>/dev/null || true
		for i in $(seq 1 30); do
			kill -0 "$slad_pid" 2>/dev/null || break
			sleep 1
			: "$i"
		done
	fi
	if [ -d "$var/pg" ]; then
		say "stopping PostgreSQL"
		pg_private_stop "$var/pg" || say "PostgreSQL did not stop cleanly"
	fi
}

# stop_slad: slad runs in its own session, so the terminal's Ctrl-C reaches
# it once, through us, not twice.  It gets SIGTERM whatever we got: a command
# a script starts in the background inherits SIGINT ignored, and SIGTERM asks
# slad for the same drain-and-exit as SIGINT does.
stop_slad() {
	if [ -n "$slad_pid" ]; then
		kill -TERM "$slad_pid" 2>/dev/null || true
	fi
}

run_slad() {
	local slad=$build_dir/daemon/slad rc=0
	# A closed terminal (HUP) means stop too: reload is `kill -HUP <slad pid>`.
	trap stop_slad INT TERM HUP
	setsid "$slad" -c "$var/slad.conf" </dev/null 9>&- &
	slad_pid=$!
	# wait returns early (status > 128) for each trapped signal; go on until
	# slad is gone, then ask once more: bash keeps a reaped child's status,
	# and that -- not the interruption -- is slad's.
	while kill -0 "$slad_pid" 2>/dev/null; do
		wait "$slad_pid" || true
	done
	if wait "$slad_pid"; then rc=0; else rc=$?; fi
	slad_pid=
	say "slad exited with status $rc"
	return "$rc"
}

# lock_var: a second quickstart on the same var/ would find PostgreSQL
# running, fail to bind slad's port, and stop the first one's database on its
# way out.  The lock lives as long as this script (slad does not inherit it).
lock_var() {
	exec 9>"$var/.quickstart.lock"
	flock -n 9 || die "another deploy/quickstart.sh is using $(show "$var")"
}

main() {
	parse_args "$@"
	mkdir -p -- "$var"
	# Before the EXIT trap: a quickstart that lost the race must not stop the
	# winner's PostgreSQL on its way out.
	lock_var
	trap cleanup EXIT
	# Until slad runs, a signal ends the script (and the EXIT trap cleans up).
	trap 'exit 130' INT
	trap 'exit 143' TERM HUP
	slad_ensure_packages
	build_tree
	"$top/deploy/certs.sh" "$var/certs"
	pg_private_start "$var/pg"
	write_config
	local p
	p=$(listen_port)
	[ -n "$p" ] || die "no 'listen = ADDRESS:PORT' line in $(show "$var/slad.conf")"
	write_profiles "$p"
	if [ ! -x "$build_dir/daemon/slad" ]; then
		say "$(show "$var")/ is ready (PostgreSQL, certificates, configuration, profiles),"
		say "but $(show "$build_dir/daemon/slad") does not exist: the daemon is not built yet."
		say "Build it (cmake --build $(show "$build_dir")) once daemon/ has sources, then run this again."
		exit 1
	fi
	print_howto "$p"
	run_slad
}

main "$@"
