# tests/lib/packages.sh - the Debian 12 packages slad builds, tests and runs
# with; sourced by tests/run.sh, deploy/quickstart.sh and .ci/run.
# slad_ensure_packages installs only what is missing and is quiet otherwise.

SLAD_PACKAGES=(
	build-essential cmake pkg-config clang
	libevent-dev libpq-dev libjson-c-dev libssl-dev libcmocka-dev
	postgresql postgresql-contrib openssl
	gcovr faketime python3 procps
)

slad_missing_packages() {
	local pkg missing=()
	for pkg in "${SLAD_PACKAGES[@]}"; do
		if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
			missing+=("$pkg")
		fi
	done
	printf '%s\n' "${missing[@]}"
}

slad_ensure_packages() {
	local missing
	mapfile -t missing < <(slad_missing_packages | sed '/^$/d')
	[ "${#missing[@]}" -eq 0 ] && return 0
	echo "installing: ${missing[*]}"
	local sudo=
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	DEBIAN_FRONTEND=noninteractive $sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
		"${missing[@]}" >/dev/null
}
