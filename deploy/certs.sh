#!/usr/bin/env bash
# deploy/certs.sh - a development CA and the certificates slad and its clients
# use: a server certificate for localhost and one client certificate per role
# principal (the principal name is the certificate's CN).
#
# usage: deploy/certs.sh DIR [--days N] [--test-extras]
#
#   DIR/ca.crt, DIR/ca.key             the development CA
#   DIR/server.crt, DIR/server.key     CN=localhost, SAN DNS:localhost, IP:127.0.0.1, IP:::1
#   DIR/<name>.crt, DIR/<name>.key     CN=<name>, clientAuth; name = hotline engineer monitor admin
#
# --test-extras adds what the refusal and team tests need:
#   foreign-ca.crt/.key                an unrelated CA
#   foreign-client.crt/.key            CN=engineer, signed by the unrelated CA
#   expired-client.crt/.key            CN=engineer, signed by the real CA, expired in 2020
#   engineer2.crt/.key, engineer3.crt/.key   more engineers (CN=engineer2, CN=engineer3)
# The two impostors carry a registered principal's name on purpose: the only
# reason left to refuse them is the chain or the date, which is what the tests check.
#
# Keys are EC P-256 (what OpenSSL 3, libevent's bufferevent_openssl and
# Python's ssl all take), mode 0600.  Idempotent: a certificate that exists,
# matches its key, chains to its CA and is valid for another day is kept; any
# other is made anew (and a new CA means new certificates for all).
# --days N (default 825) is the validity of each new certificate; the CA's is
# 3650 days or N, whichever is longer.
set -euo pipefail

ROLES=(hotline engineer monitor admin)
days=825
extras=false
dir=

usage() {
	sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"
}

die() {
	printf 'certs.sh: %s\n' "$*" >&2
	exit 1
}

parse_args() {
	while [ "$#" -gt 0 ]; do
		case $1 in
		--days)
			[ "$#" -ge 2 ] || die "--days needs a number"
			days=$2
			shift
			;;
		--days=*) days=${1#--days=} ;;
		--test-extras) extras=true ;;
		-h | --help)
			usage
			exit 0
			;;
		-*) die "unknown option $1 (see --help)" ;;
		*)
			[ -z "$dir" ] || die "one DIR only"
			dir=$1
			;;
		esac
		shift
	done
	[ -n "$dir" ] || die "usage: certs.sh DIR [--days N] [--test-extras]"
	[[ $days =~ ^[1-9][0-9]*$ ]] || die "--days wants a positive number, not $days"
}

# new_key FILE: an EC P-256 private key, never readable by others, not even
# for the moment between creation and chmod.
new_key() {
	(umask 077 && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null)
}

# key_matches CRT KEY: the certificate holds the key's public half.
key_matches() {
	[ -f "$1" ] && [ -f "$2" ] || return 1
	[ "$(openssl x509 -in "$1" -noout -pubkey 2>/dev/null)" = "$(openssl pkey -in "$2" -pubout 2>/dev/null)" ]
}

# still_valid CRT: good for at least one more day, so a reused certificate
# does not expire halfway through a test run.
still_valid() {
	openssl x509 -in "$1" -noout -checkend 86400 >/dev/null 2>&1
}

# chains CAFILE CRT [VERIFY OPTIONS...]: CRT is signed by CAFILE's CA.
chains() {
	local cafile=$1 crt=$2
	shift 2
	openssl verify -CAfile "$cafile" "$@" "$crt" >/dev/null 2>&1
}

# make_ca NAME CN: a self-signed CA that signs leaves only (pathlen 0).
# Python's ssl (X509_STRICT since 3.13) wants keyUsage and the key identifiers.
make_ca() {
	local name=$1 cn=$2 ca_days=$((days > 3650 ? days : 3650))
	if key_matches "$dir/$name.crt" "$dir/$name.key" && still_valid "$dir/$name.crt"; then
		return 0
	fi
	echo "certs.sh: new CA $dir/$name.crt ($cn)"
	new_key "$dir/$name.key"
	openssl req -x509 -new -key "$dir/$name.key" -sha256 -days "$ca_days" \
		-subj "/O=slad development/CN=$cn" \
		-addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" \
		-addext "subjectKeyIdentifier=hash" \
		-out "$dir/$name.crt"
}

# leaf_ext server|client: the X.509v3 extensions of a leaf certificate.
leaf_ext() {
	printf '%s\n' "basicConstraints=critical,CA:FALSE" \
		"keyUsage=critical,digitalSignature" \
		"subjectKeyIdentifier=hash" \
		"authorityKeyIdentifier=keyid,issuer"
	if [ "$1" = server ]; then
		printf '%s\n' "extendedKeyUsage=serverAuth" \
			"subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1"
	else
		printf '%s\n' "extendedKeyUsage=clientAuth"
	fi
}

# make_leaf NAME CN server|client [CA]: NAME.crt/NAME.key signed by CA
# (default ca), kept if still good.
make_leaf() {
	local name=$1 cn=$2 kind=$3 ca=${4:-ca} csr
	local crt=$dir/$name.crt key=$dir/$name.key
	if key_matches "$crt" "$key" && still_valid "$crt" && chains "$dir/$ca.crt" "$crt"; then
		return 0
	fi
	echo "certs.sh: new $kind certificate $crt (CN=$cn)"
	new_key "$key"
	csr=$(openssl req -new -key "$key" -subj "/CN=$cn")
	openssl x509 -req -sha256 -days "$days" -CA "$dir/$ca.crt" -CAkey "$dir/$ca.key" \
		-set_serial "0x$(openssl rand -hex 16)" -extfile <(leaf_ext "$kind") \
		-out "$crt" <<<"$csr" 2>/dev/null
}

# make_expired NAME CN: a client certificate of the real CA whose validity
# ended long ago.  OpenSSL 3.0's `x509 -req` cannot set dates in the past
# (-not_before arrived in 3.4), so this one goes through `openssl ca`.
make_expired() {
	local name=$1 cn=$2 crt=$dir/$1.crt key=$dir/$1.key work
	if key_matches "$crt" "$key" && chains "$dir/ca.crt" "$crt" -no_check_time &&
		! openssl x509 -in "$crt" -noout -checkend 0 >/dev/null 2>&1; then
		return 0
	fi
	echo "certs.sh: new expired client certificate $crt (CN=$cn)"
	new_key "$key"
	work=$(mktemp -d)
	: >"$work/index.txt"
	openssl rand -hex 16 >"$work/serial"
	cat >"$work/ca.cnf" <<-EOF
		[ca]
		default_ca = dev
		[dev]
		database = $work/index.txt
		new_certs_dir = $work
		serial = $work/serial
		default_md = sha256
		policy = any
		unique_subject = no
		email_in_dn = no
		[any]
		commonName = supplied
	EOF
	leaf_ext client >"$work/ext.cnf"
	openssl req -new -key "$key" -subj "/CN=$cn" -out "$work/req.csr"
	openssl ca -batch -notext -config "$work/ca.cnf" -cert "$dir/ca.crt" -keyfile "$dir/ca.key" \
		-startdate 20200101000000Z -enddate 20200102000000Z -extfile "$work/ext.cnf" \
		-in "$work/req.csr" -out "$crt" 2>/dev/null
	rm -rf -- "$work"
}

main() {
	parse_args "$@"
	command -v openssl >/dev/null || die "openssl is not installed"
	mkdir -p -- "$dir"
	make_ca ca "slad development CA"
	make_leaf server localhost server
	local role
	for role in "${ROLES[@]}"; do
		make_leaf "$role" "$role" client
	done
	if [ "$extras" = true ]; then
		make_ca foreign-ca "unrelated development CA"
		make_leaf foreign-client engineer client foreign-ca
		make_expired expired-client engineer
		make_leaf engineer2 engineer2 client
		make_leaf engineer3 engineer3 client
	fi
	# Keys made by an older run or copied in may be looser; certificates are public.
	chmod 0600 "$dir"/*.key
	chmod 0644 "$dir"/*.crt
}

main "$@"
