# shellcheck shell=bash
# tests/lib/pg.sh - a private, throw-away PostgreSQL cluster for the quick start
# and the integration tests.  Source it; it sets no shell options of its own.
#
#   pg_private_start DATADIR [PORT]     initdb if needed, start, create db `slad`
#   pg_private_stop DATADIR [MODE]      stop (smart|fast|immediate; default fast);
#                                       a cluster that is not running is a no-op
#   pg_private_conninfo [DATADIR] [tcp|socket]   libpq conninfo (default tcp)
#   pg_private_psql [PSQL ARGS...]      psql on $PG_PRIVATE_DATADIR's db `slad`
#   pg_private_datadir DATADIR          the data directory actually used
#   pg_private_port DATADIR             the cluster's TCP port
#   pg_private_destroy DATADIR          stop and delete the cluster
#
# Each cluster has its own data directory, port and socket directory, so
# parallel tests can each run one.  The server listens on 127.0.0.1 and on a
# unix socket in DATADIR.sock (beside the data directory); both trust every
# local user, which is why the cluster is for development and tests only.
# fsync stays on (S-durability is what slad promises); SLAD_PG_FSYNC=off turns
# it off for a test that wants speed and says so.
#
# Root: initdb and postgres refuse to run as root, so the server runs as
# $SLAD_PG_USER, else `postgres` (the postgresql package creates it), else a
# `slad` system user created here.
#
# Fallback rule: when that user cannot read, write and search DATADIR (for
# example a checkout under /root, mode 0700), the cluster goes to
#   ${SLAD_PG_FALLBACK_BASE:-/var/tmp}/slad-<first 12 hex of sha256(DATADIR)>/<basename DATADIR>
# and DATADIR becomes a symlink to it, so every later call (and a person with
# `ls -l`) finds it again.  The socket directory follows the same rule (it is
# always <effective data dir>.sock), unless that path is too long for a unix
# socket, in which case it is <fallback base>/slad-<hash of data dir>.sock.
#
# Other environment:
#   SLAD_PG_BINDIR       PostgreSQL's bin dir (default: newest /usr/lib/postgresql/*/bin)
#   SLAD_PG_EXTRA_CONF   lines appended to the server configuration at each start
#
# Globals set by pg_private_start (only in the calling shell, not a subshell):
#   PG_PRIVATE_DATADIR (as requested), PG_PRIVATE_PGDATA (effective),
#   PG_PRIVATE_PORT, PG_PRIVATE_SOCKDIR.

# The superuser and database every private cluster has.
PG_PRIVATE_DBUSER=slad
PG_PRIVATE_DBNAME=slad
# What we write to the data dir: the server settings we own, and the server log.
PG_PRIVATE_CONF=slad_private.conf
PG_PRIVATE_LOG=server.log

pg__log() {
	printf 'pg.sh: %s\n' "$*" >&2
}

# pg__bindir: the newest installed PostgreSQL, so a Debian upgrade to 16 needs
# no edit here.
pg__bindir() {
	if [ -n "${SLAD_PG_BINDIR:-}" ]; then
		printf '%s\n' "$SLAD_PG_BINDIR"
		return 0
	fi
	local dir best=
	for dir in /usr/lib/postgresql/*/bin; do
		[ -x "$dir/initdb" ] || continue
		if [ -z "$best" ] || [ "$(basename "$(dirname "$dir")")" -gt "$(basename "$(dirname "$best")")" ]; then
			best=$dir
		fi
	done
	if [ -z "$best" ]; then
		pg__log "no PostgreSQL found under /usr/lib/postgresql (install the postgresql package)"
		return 1
	fi
	printf '%s\n' "$best"
}

pg__is_root() {
	[ "$(id -u)" -eq 0 ]
}

# pg__server_user: who runs a new cluster.  Not root: the caller itself.
pg__server_user() {
	if ! pg__is_root; then
		id -un
		return 0
	fi
	if [ -n "${SLAD_PG_USER:-}" ]; then
		printf '%s\n' "$SLAD_PG_USER"
		return 0
	fi
	if getent passwd postgres >/dev/null; then
		echo postgres
		return 0
	fi
	# Parallel tests may race to create the user; useradd also fails while
	# another holds the passwd lock, so retry and accept "someone else did it".
	local try
	for try in 1 2 3 4 5; do
		getent passwd slad >/dev/null && {
			echo slad
			return 0
		}
		useradd --system --user-group --home-dir /nonexistent --no-create-home \
			--shell /usr/sbin/nologin slad 2>/dev/null || sleep "$try"
	done
	getent passwd slad >/dev/null || {
		pg__log "cannot create the system user slad"
		return 1
	}
	echo slad
}

# pg__as USER CMD...: run CMD as USER.  From / because the caller's working
# directory may be one USER cannot enter (initdb and pg_ctl complain).
pg__as() {
	local user=$1
	shift
	if pg__is_root && [ "$user" != root ]; then
		(cd / && runuser -u "$user" -- "$@")
	else
		(cd / && "$@")
	fi
}

# pg__owner PATH: the user owning PATH; every later command on a cluster runs
# as the user who created it, whatever the environment says now.
pg__owner() {
	stat -c %U -- "$1"
}

# pg__abspath PATH: absolute, parent resolved, last component kept as is (it
# may be our symlink, and the fallback hash must not depend on where it points).
# A parent that does not exist yet (no cluster there) is made absolute as text.
pg__abspath() {
	local path=${1%/} parent
	[ -n "$path" ] || path=/
	parent=$(dirname -- "$path")
	if [ -d "$parent" ]; then
		parent=$(cd -- "$parent" && pwd -P) || return 1
	elif [ "${parent#/}" = "$parent" ]; then
		parent=$PWD/$parent
	fi
	printf '%s/%s\n' "${parent%/}" "$(basename -- "$path")"
}

pg__hash() {
	printf '%s' "$1" | sha256sum | cut -c1-12
}

pg__fallback_base() {
	printf '%s\n' "${SLAD_PG_FALLBACK_BASE:-/var/tmp}"
}

# pg__effective ABSPATH: the data directory in use for a requested path.
pg__effective() {
	if [ -L "$1" ]; then
		readlink -- "$1"
	else
		printf '%s\n' "$1"
	fi
}

# pg__sockdir PGDATA: 107 bytes is all a unix socket path may hold, and the
# server adds "/.s.PGSQL.NNNNN" (15) to the directory.
pg__sockdir() {
	local dir=$1.sock
	if [ "${#dir}" -gt 90 ]; then
		dir=$(pg__fallback_base)/slad-$(pg__hash "$1").sock
	fi
	printf '%s\n' "$dir"
}

# pg__mkdir_for USER MODE DIR: create DIR owned by USER.
pg__mkdir_for() {
	mkdir -p -- "$3" || return 1
	if pg__is_root; then
		chown -- "$1:" "$3" || return 1
	fi
	chmod "$2" -- "$3"
}

# pg__prepare ABSPATH USER: choose and create the effective data directory for
# a cluster that does not exist yet (or reuse one that does); prints it.
pg__prepare() {
	local req=$1 user=$2 eff base
	if [ -L "$req" ]; then
		# A fallback made earlier; its target may have been cleaned from /var/tmp.
		eff=$(readlink -- "$req")
		if [ ! -d "$eff" ]; then
			pg__mkdir_for root 0755 "$(dirname -- "$eff")" || return 1
			pg__mkdir_for "$user" 0700 "$eff" || return 1
		fi
		printf '%s\n' "$eff"
		return 0
	fi
	if [ -f "$req/PG_VERSION" ]; then
		printf '%s\n' "$req"
		return 0
	fi
	if [ -e "$req" ] && { [ ! -d "$req" ] || [ -n "$(ls -A -- "$req")" ]; }; then
		pg__log "$req exists and is not a PostgreSQL data directory; refusing to touch it"
		return 1
	fi
	pg__mkdir_for "$user" 0700 "$req" || return 1
	# The socket dir sits beside the data dir, so reaching one is reaching both.
	if pg__as "$user" test -r "$req" -a -w "$req" -a -x "$req"; then
		printf '%s\n' "$req"
		return 0
	fi
	rmdir -- "$req" || return 1
	base=$(pg__fallback_base)/slad-$(pg__hash "$req")
	eff=$base/$(basename -- "$req")
	pg__mkdir_for root 0755 "$base" || return 1
	pg__mkdir_for "$user" 0700 "$eff" || return 1
	ln -s -- "$eff" "$req" || return 1
	pg__log "user $user cannot reach $req; the cluster lives in $eff ($req is a symlink to it)"
	printf '%s\n' "$eff"
}

pg__initdb() {
	local pgdata=$1 user=$2 bindir out locale=(--no-locale)
	bindir=$(pg__bindir) || return 1
	# C.UTF-8 sorts by code point like C but knows which characters are letters.
	if locale -a 2>/dev/null | grep -qix 'c\.utf-\?8'; then
		locale=(--locale=C.UTF-8)
	fi
	if ! out=$(pg__as "$user" "$bindir/initdb" -D "$pgdata" -U "$PG_PRIVATE_DBUSER" \
		-E UTF8 "${locale[@]}" --auth-local=trust --auth-host=trust 2>&1); then
		printf '%s\n' "$out" >&2
		pg__log "initdb failed for $pgdata"
		return 1
	fi
	# Only the loopback address and the socket: nothing else may connect.
	pg__write_as "$user" "$pgdata/pg_hba.conf" <<-'EOF'
		# written by tests/lib/pg.sh: a private development cluster
		local all all              trust
		host  all all 127.0.0.1/32 trust
	EOF
	printf "\ninclude_if_exists = '%s'\n" "$PG_PRIVATE_CONF" >>"$pgdata/postgresql.conf"
}

# pg__write_as USER FILE < content: FILE owned by USER (root writes, then hands over).
pg__write_as() {
	cat >"$2" || return 1
	if pg__is_root; then
		chown -- "$1:" "$2" || return 1
	fi
}

# pg__port_free PORT: nothing listens on 127.0.0.1:PORT.  SO_REUSEADDR as
# postgres sets it, so a port left in TIME_WAIT counts as free.
pg__port_free() {
	if command -v python3 >/dev/null; then
		python3 - "$1" 2>/dev/null <<-'EOF'
			import socket, sys
			s = socket.socket()
			s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
			s.bind(("127.0.0.1", int(sys.argv[1])))
		EOF
		return
	fi
	! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# pg__pick_port: a port the kernel just handed out, so parallel callers rarely
# collide (and pg_private_start retries when they do).
pg__pick_port() {
	if command -v python3 >/dev/null; then
		python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
		return
	fi
	local try port
	for try in $(seq 1 50); do
		port=$((20000 + RANDOM % 20000))
		pg__port_free "$port" && {
			echo "$port"
			return 0
		}
		: "$try"
	done
	pg__log "no free port found"
	return 1
}

# pg__stored_port PGDATA: the port of the last start, kept so that a restart
# (a crash test stopping the server) comes back where clients expect it.
pg__stored_port() {
	local conf=$1/$PG_PRIVATE_CONF
	[ -f "$conf" ] || return 1
	sed -n 's/^port = \([0-9][0-9]*\)$/\1/p' "$conf" | grep .
}

pg__write_conf() {
	local pgdata=$1 user=$2 port=$3 sockdir=$4
	pg__write_as "$user" "$pgdata/$PG_PRIVATE_CONF" <<-EOF
		# written by tests/lib/pg.sh at each start; edits here are lost
		listen_addresses = '127.0.0.1'
		port = $port
		unix_socket_directories = '$sockdir'
		fsync = ${SLAD_PG_FSYNC:-on}
		${SLAD_PG_EXTRA_CONF:-}
	EOF
}

pg__running() {
	local pgdata=$1 bindir
	bindir=$(pg__bindir) || return 1
	pg__as "$(pg__owner "$pgdata")" "$bindir/pg_ctl" status -D "$pgdata" >/dev/null 2>&1
}

# pg__try_start PGDATA USER PORT SOCKDIR: 0 started, 1 failed, 2 port taken.
pg__try_start() {
	local pgdata=$1 user=$2 port=$3 sockdir=$4 bindir log lines
	bindir=$(pg__bindir) || return 1
	log=$pgdata/$PG_PRIVATE_LOG
	pg__write_conf "$pgdata" "$user" "$port" "$sockdir" || return 1
	lines=0
	[ -f "$log" ] && lines=$(wc -l <"$log")
	if pg__as "$user" "$bindir/pg_ctl" start -D "$pgdata" -l "$log" -w -t 60 -s >/dev/null; then
		return 0
	fi
	if tail -n "+$((lines + 1))" "$log" 2>/dev/null | grep -q 'could not bind\|Address already in use'; then
		return 2
	fi
	tail -n "+$((lines + 1))" "$log" >&2 2>/dev/null
	pg__log "could not start the cluster in $pgdata (log: $log)"
	return 1
}

pg__ensure_db() {
	local bindir info
	bindir=$(pg__bindir) || return 1
	info=$(pg_private_conninfo "$1" socket postgres) || return 1
	if [ -z "$("$bindir/psql" -X -At -d "$info" -c \
		"SELECT 1 FROM pg_database WHERE datname = '$PG_PRIVATE_DBNAME'")" ]; then
		"$bindir/psql" -X -q -v ON_ERROR_STOP=1 -d "$info" \
			-c "CREATE DATABASE $PG_PRIVATE_DBNAME" || return 1
	fi
}

# pg_private_start DATADIR [PORT]: start (initdb first if needed) the private
# cluster of DATADIR.  Without PORT it reuses the last port if free, else
# picks one.  Already running: nothing to do.
pg_private_start() {
	local req=${1:?usage: pg_private_start DATADIR [PORT]} want=${2:-} user pgdata sockdir port try rc
	mkdir -p -- "$(dirname -- "$req")" || return 1
	req=$(pg__abspath "$req") || return 1
	pgdata=$(pg__effective "$req")
	if [ -f "$pgdata/PG_VERSION" ]; then
		user=$(pg__owner "$pgdata")
	else
		user=$(pg__server_user) || return 1
		pgdata=$(pg__prepare "$req" "$user") || return 1
		[ -f "$pgdata/PG_VERSION" ] || pg__initdb "$pgdata" "$user" || return 1
	fi
	sockdir=$(pg__sockdir "$pgdata")
	pg__mkdir_for "$user" 0755 "$sockdir" || return 1
	if ! pg__running "$pgdata"; then
		for try in 1 2 3 4 5; do
			port=$want
			if [ -z "$port" ] && { ! port=$(pg__stored_port "$pgdata") || ! pg__port_free "$port"; }; then
				port=$(pg__pick_port) || return 1
			fi
			rc=0
			pg__try_start "$pgdata" "$user" "$port" "$sockdir" || rc=$?
			[ "$rc" -eq 0 ] && break
			if [ "$rc" -eq 2 ] && [ -z "$want" ]; then
				pg__log "port $port was taken meanwhile; trying another (attempt $try)"
				continue
			fi
			[ "$rc" -eq 2 ] && pg__log "port $port is in use"
			return 1
		done
		[ "$rc" -eq 0 ] || return 1
	fi
	pg__ensure_db "$req" || return 1
	PG_PRIVATE_DATADIR=$req
	PG_PRIVATE_PGDATA=$pgdata
	PG_PRIVATE_PORT=$(pg__stored_port "$pgdata")
	PG_PRIVATE_SOCKDIR=$sockdir
	export PG_PRIVATE_DATADIR PG_PRIVATE_PGDATA PG_PRIVATE_PORT PG_PRIVATE_SOCKDIR
}

# pg_private_stop DATADIR [MODE]: stop and wait.  No cluster or not running:
# success, so cleanup traps can call it unconditionally.
pg_private_stop() {
	local req=${1:?usage: pg_private_stop DATADIR [smart|fast|immediate]} mode=${2:-fast} pgdata bindir
	case $mode in
	smart | fast | immediate) ;;
	*)
		pg__log "unknown stop mode $mode"
		return 1
		;;
	esac
	req=$(pg__abspath "$req") || return 1
	pgdata=$(pg__effective "$req")
	[ -f "$pgdata/PG_VERSION" ] || return 0
	pg__running "$pgdata" || return 0
	bindir=$(pg__bindir) || return 1
	if ! pg__as "$(pg__owner "$pgdata")" "$bindir/pg_ctl" stop -D "$pgdata" -m "$mode" -w -t 60 -s; then
		# Stopped by someone else between our check and our stop is still stopped.
		pg__running "$pgdata" || return 0
		pg__log "could not stop the cluster in $pgdata"
		return 1
	fi
}

# pg__quote VALUE: a conninfo value, quoted when it has to be.
pg__quote() {
	case $1 in
	*[[:space:]\\\']* | '')
		local v=${1//\\/\\\\}
		printf "'%s'" "${v//\'/\\\'}"
		;;
	*) printf '%s' "$1" ;;
	esac
}

# pg_private_conninfo [DATADIR] [tcp|socket] [DBNAME]: how libpq reaches the
# cluster.  tcp (127.0.0.1) works for any local user, whatever the directory
# permissions; socket is what pg_ctl and psql use here.
pg_private_conninfo() {
	local req=${1:-${PG_PRIVATE_DATADIR:-}} how=${2:-tcp} db=${3:-$PG_PRIVATE_DBNAME} pgdata port host
	[ -n "$req" ] || {
		pg__log "pg_private_conninfo: no DATADIR given and none started"
		return 1
	}
	req=$(pg__abspath "$req") || return 1
	pgdata=$(pg__effective "$req")
	port=$(pg__stored_port "$pgdata") || {
		pg__log "no private cluster has been started in $req"
		return 1
	}
	case $how in
	tcp) host=127.0.0.1 ;;
	socket) host=$(pg__sockdir "$pgdata") ;;
	*)
		pg__log "pg_private_conninfo: tcp or socket, not $how"
		return 1
		;;
	esac
	printf 'host=%s port=%s dbname=%s user=%s\n' "$(pg__quote "$host")" "$port" \
		"$(pg__quote "$db")" "$PG_PRIVATE_DBUSER"
}

# pg_private_psql [ARGS...]: psql on the database slad of the cluster named by
# $PG_PRIVATE_DATADIR (set by pg_private_start, or by the caller).
pg_private_psql() {
	local bindir info
	bindir=$(pg__bindir) || return 1
	info=$(pg_private_conninfo "${PG_PRIVATE_DATADIR:-}" socket) || return 1
	"$bindir/psql" -X -v ON_ERROR_STOP=1 -d "$info" "$@"
}

pg_private_datadir() {
	local req
	req=$(pg__abspath "${1:?usage: pg_private_datadir DATADIR}") || return 1
	pg__effective "$req"
}

pg_private_port() {
	local pgdata
	pgdata=$(pg_private_datadir "${1:?usage: pg_private_port DATADIR}") || return 1
	pg__stored_port "$pgdata"
}

# pg_private_destroy DATADIR: stop, then delete the data dir, its socket dir,
# the fallback symlink and fallback folder.  Refuses a directory that is
# neither empty nor a cluster, so a wrong argument cannot wipe a checkout.
pg_private_destroy() {
	local req pgdata
	req=$(pg__abspath "${1:?usage: pg_private_destroy DATADIR}") || return 1
	pgdata=$(pg__effective "$req")
	pg_private_stop "$req" immediate || return 1
	if [ -d "$pgdata" ] && [ ! -f "$pgdata/PG_VERSION" ] && [ -n "$(ls -A -- "$pgdata")" ]; then
		pg__log "$pgdata is not a PostgreSQL data directory; not deleting it"
		return 1
	fi
	rm -rf -- "$pgdata" "$(pg__sockdir "$pgdata")"
	if [ -L "$req" ]; then
		rm -f -- "$req"
		rmdir -- "$(dirname -- "$pgdata")" 2>/dev/null || true
	fi
}
