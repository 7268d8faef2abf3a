#!/usr/bin/env bash
# Installs, upgrades or uninstalls Oqto. Run from a checkout (it builds the binary) or piped from a
# URL (it downloads the release binary and checks its sha256). `install.sh --help` lists the options;
# docs/OPERATIONS.md is the guide. Every step is safe to repeat: a second run is an in-place upgrade.
set -Eeuo pipefail
umask 022
# Piped from a URL, bash reads the script while it runs it: as one group it is read whole before
# anything runs, so no command reading stdin can swallow the rest of the script.
{

usage() {
  cat <<'EOF'
usage: install.sh [options]          install or upgrade Oqto
       install.sh --uninstall [--purge] [--prefix DIR]

As root on a machine running systemd it installs the multi-user service (oqto.service): the binary,
pi (pinned) under PREFIX/lib/oqto, the service user, /etc/oqto/config.toml and sandbox.toml (written
only when absent, kept on upgrade), the data and log directories, and starts it. Otherwise it makes a
single-user install and prints how to start it.

options:
  --multi-user        one Linux user and runner per platform user, as a systemd service (needs root;
                      the default as root with systemd)
  --single-user       one runner for everybody (the default without root or without systemd)
  --prefix DIR        the binary at DIR/bin/oqto, pi under DIR/lib/oqto
                      (default /usr/local as root, ~/.local otherwise)
  --data-dir DIR      serve's data (default /var/lib/oqto multi-user, ~/.local/share/oqto single-user)
  --host H            listen address written into a new config (default 127.0.0.1)
  --port N            listen port written into a new config (default 8080)
  --run-as USER       single-user as root: the unprivileged user the runner runs as (default oqto,
                      made when missing)
  --no-start          install but do not start or restart the service
  --uninstall         stop and remove the service, the binary and pi; keep data, config and users
  --purge             with --uninstall: also remove data, config, logs and the users Oqto made
  -h, --help          this text

environment:
  OQTO_BINARY         install this prebuilt oqto binary instead of building or downloading one
  OQTO_RELEASE_URL    where to download the binary when not run from a checkout
                      (default https://github.com/oqto/oqto/releases/latest/download/oqto-linux-ARCH)
  OQTO_RELEASE_SHA256 the binary's expected sha256 (default: the contents of OQTO_RELEASE_URL.sha256)
  OQTO_ETC_DIR        the system config directory (default /etc/oqto)
  OQTO_SYSTEMD_DIR    where the unit goes (default /etc/systemd/system)
EOF
}

STEP="reading the options"
VERB="install"
# Where to look when the current step fails, if there is more to say than its own output.
HINT=""
step() {
  STEP=$1
  HINT=${2:-}
  echo "${VERB}: ${STEP}"
}
fail() {
  echo "install.sh: $*" >&2
  exit 1
}
# Any failing command lands here: name the step and say how to get out of the half-done state.
# shellcheck disable=SC2317 # run by the ERR trap
on_error() {
  local code=$?
  trap - ERR
  # In a command substitution: the enclosing shell reports it.
  ((BASH_SUBSHELL == 0)) || exit "${code}"
  echo >&2
  echo "install.sh: failed while ${STEP} (exit ${code}); the output above says why." >&2
  [[ -z ${HINT} ]] || echo "  ${HINT}" >&2
  if [[ ${VERB} == install ]]; then
    echo "  Fix that and run install.sh again with the same options: every step is safe to repeat." >&2
    echo "  Nothing after this step was done; to remove what was installed: install.sh --uninstall" >&2
  else
    echo "  Fix that and run install.sh ${ORIGINAL_ARGS} again: it removes what is left." >&2
  fi
  exit "${code}"
}
trap on_error ERR
ORIGINAL_ARGS="$*"

MODE="" PREFIX="" DATA_DIR="" HOST="" PORT="" RUN_AS="" NO_START=0 UNINSTALL=0 PURGE=0
while (($# > 0)); do
  case $1 in
    --multi-user) MODE=multi ;;
    --single-user) MODE=single ;;
    --prefix | --data-dir | --host | --port | --run-as)
      (($# >= 2)) || fail "$1 needs a value (install.sh --help)"
      case $1 in
        --prefix) PREFIX=$2 ;;
        --data-dir) DATA_DIR=$2 ;;
        --host) HOST=$2 ;;
        --port) PORT=$2 ;;
        --run-as) RUN_AS=$2 ;;
      esac
      shift
      ;;
    --no-start) NO_START=1 ;;
    --uninstall) UNINSTALL=1 ;;
    --purge) PURGE=1 ;;
    -h | --help)
      usage
      exit 0
      ;;
    *) fail "unknown option '$1' (install.sh --help)" ;;
  esac
  shift
done
((PURGE == 0 || UNINSTALL == 1)) || fail "--purge goes with --uninstall"
[[ -z ${PORT} || ${PORT} =~ ^[0-9]{1,5}$ && ${PORT} -le 65535 ]] || fail "--port must be a port number"
[[ -z ${RUN_AS} || ${RUN_AS} =~ ^[a-z_][a-z0-9_-]{0,31}$ ]] || fail "--run-as must be a Linux user name"
[[ -z ${HOST} || ${HOST} =~ ^[A-Za-z0-9.:_-]+$ ]] || fail "--host must be an address or host name"

IS_ROOT=0
[[ $(id -u) -eq 0 ]] && IS_ROOT=1
HAS_SYSTEMD=0
[[ -d /run/systemd/system ]] && HAS_SYSTEMD=1
ETC_DIR=${OQTO_ETC_DIR:-/etc/oqto}
SYSTEMD_DIR=${OQTO_SYSTEMD_DIR:-/etc/systemd/system}
UNIT_NAME=oqto.service
[[ -z ${PREFIX} || ${PREFIX} == /* ]] || PREFIX=$(pwd)/${PREFIX}
[[ -z ${DATA_DIR} || ${DATA_DIR} == /* ]] || DATA_DIR=$(pwd)/${DATA_DIR}
USER_CONFIG_DIR=${XDG_CONFIG_HOME:-${HOME}/.config}/oqto
USER_DATA_DIR=${XDG_DATA_HOME:-${HOME}/.local/share}/oqto

# What an earlier run installed: a manifest beside the config (kept with it by --uninstall, so that
# --purge later knows what to remove). key=value lines, read, never sourced.
MANIFEST_CANDIDATES=("${USER_CONFIG_DIR}/install.manifest")
((IS_ROOT)) && MANIFEST_CANDIDATES=("${ETC_DIR}/install.manifest" "${MANIFEST_CANDIDATES[@]}")
declare -A PREVIOUS=()
for manifest in "${MANIFEST_CANDIDATES[@]}"; do
  [[ -f ${manifest} ]] || continue
  PREVIOUS=()
  while IFS='=' read -r key value; do
    [[ -n ${key} ]] && PREVIOUS[${key}]=${value}
  done <"${manifest}"
  # Without --prefix the first install found is the one meant; with it, the one under that prefix.
  [[ -z ${PREFIX} || ${PREVIOUS[prefix]:-} == "${PREFIX}" ]] && break
  PREVIOUS=()
done
if [[ -z ${PREFIX} ]]; then
  PREFIX=${PREVIOUS[prefix]:-}
  if [[ -z ${PREFIX} ]]; then
    if ((IS_ROOT)); then PREFIX=/usr/local; else PREFIX=${HOME}/.local; fi
  fi
fi
BIN=${PREFIX}/bin/oqto
LIB_DIR=${PREFIX}/lib/oqto
PI_DIR=${LIB_DIR}/pi

# The checkout this script lives in, if any: piped from a URL there is none.
CHECKOUT=""
SCRIPT=${BASH_SOURCE[0]:-}
if [[ -n ${SCRIPT} && -f ${SCRIPT} ]]; then
  dir=$(cd "$(dirname "${SCRIPT}")" && pwd)
  [[ -f ${dir}/package.json && -f ${dir}/src/cli/main.ts ]] && CHECKOUT=${dir}
fi

# Paths end up in a systemd unit and a TOML file: keep them to characters neither needs to quote.
safe_path() {
  [[ $2 =~ ^/[A-Za-z0-9._/+-]*$ ]] || fail "$1 '$2' has characters install.sh does not quote (use letters, digits, . _ - + /)"
}

same_file() { [[ -f $1 && -f $2 ]] && cmp -s "$1" "$2"; }

# Writes $2 (content) to $1 with mode $3, atomically, unless it already says that; WROTE says which.
WROTE=0
write_if_changed() {
  local file=$1 content=$2 mode=$3 tmp
  WROTE=0
  if [[ -f ${file} ]] && [[ "$(cat "${file}")" == "${content}" ]]; then return 0; fi
  tmp=$(mktemp "${file}.XXXXXX")
  printf '%s\n' "${content}" >"${tmp}"
  chmod "${mode}" "${tmp}"
  mv -f "${tmp}" "${file}"
  WROTE=1
}

# ---------------------------------------------------------------------------------------------------
# Uninstall
# ---------------------------------------------------------------------------------------------------

# Every account the privileged helper made: its marker in the comment field, a home under home_base.
platform_accounts() {
  local home_base=$1
  awk -F: -v base="${home_base%/}/" \
    '$5 ~ /^oqto platform user/ && index($6, base) == 1 && $3 >= 1000 { print $1 }' /etc/passwd
}

remove_account() {
  local name=$1
  id "${name}" >/dev/null 2>&1 || return 0
  # userdel refuses while the user has processes; the service is stopped, so these are leftovers.
  pkill -KILL -u "${name}" 2>/dev/null || true
  sleep 0.2
  userdel --remove "${name}" 2>/dev/null || userdel "${name}"
  echo "${VERB}: removed the Linux user ${name}"
}

# --purge removes directories named in the manifest: never one the system itself is made of.
removable() {
  [[ $1 == /* && $1 != / ]] || return 1
  case ${1%/} in
    /bin | /boot | /dev | /etc | /home | /lib | /lib64 | /opt | /proc | /root | /run | /sbin | /srv | /sys | /tmp | /usr | /usr/* | /var | /var/lib | /var/log | /var/tmp) return 1 ;;
  esac
}
purge_dir() {
  [[ -z $1 ]] && return 0
  removable "$1" || fail "not removing $1: it is a system directory (check ${2})"
  rm -rf "$1"
}

uninstall() {
  VERB=uninstall
  local mode=${PREVIOUS[mode]:-}
  if [[ -z ${mode} && ! -e ${BIN} ]]; then
    echo "uninstall: nothing of Oqto's is installed under ${PREFIX} (use --prefix if it went elsewhere)"
    ((PURGE == 0)) && return 0
  fi
  local unit=${PREVIOUS[unit]:-${SYSTEMD_DIR}/${UNIT_NAME}}
  if [[ -f ${unit} ]]; then
    step "stopping and removing ${unit}"
    if ((HAS_SYSTEMD)); then
      systemctl disable --now "${UNIT_NAME}" 2>/dev/null || systemctl stop "${UNIT_NAME}" 2>/dev/null || true
    fi
    rm -f "${unit}"
    ((HAS_SYSTEMD)) && systemctl daemon-reload
  fi
  step "removing ${BIN} and ${LIB_DIR} (pi)"
  rm -f "${BIN}"
  rm -rf "${LIB_DIR}"
  if [[ ${mode} == multi && -d ${PREVIOUS[runtime_dir]:-} ]]; then purge_dir "${PREVIOUS[runtime_dir]}" "[multi_user] runtime_dir"; fi

  local config=${PREVIOUS[config]:-} data=${PREVIOUS[data_dir]:-${DATA_DIR}} users=""
  if [[ ${mode} == multi ]]; then
    users="the service user ${PREVIOUS[service_user]:-} and every oqto_<name> account with its home"
  elif [[ -n ${PREVIOUS[created_user]:-} ]]; then
    users="the Linux user ${PREVIOUS[created_user]} with its home"
  fi
  if ((PURGE == 0)); then
    echo
    echo "Oqto is uninstalled. Kept: config ${config:-(none recorded)}, data ${data:-(none recorded)}${PREVIOUS[log_dir]:+, logs ${PREVIOUS[log_dir]}}${users:+, ${users}}."
    echo "Remove those too with: install.sh --uninstall --purge --prefix ${PREFIX}"
    return 0
  fi
  step "purging data, config, logs and users"
  purge_dir "${data}" "the data dir"
  if [[ ${mode} == multi ]]; then
    purge_dir "${PREVIOUS[etc_dir]:-${ETC_DIR}}" "OQTO_ETC_DIR"
    purge_dir "${PREVIOUS[log_dir]:-}" "[multi_user] log_dir"
    if [[ -n ${PREVIOUS[home_base]:-} ]]; then
      for account in $(platform_accounts "${PREVIOUS[home_base]}"); do remove_account "${account}"; done
    fi
    [[ -n ${PREVIOUS[service_user]:-} ]] && remove_account "${PREVIOUS[service_user]}"
  elif [[ -n ${config} ]]; then
    rm -f "${config}" "$(dirname "${config}")/install.manifest"
    rmdir "$(dirname "${config}")" 2>/dev/null || true
  fi
  [[ -n ${PREVIOUS[created_user]:-} ]] && remove_account "${PREVIOUS[created_user]}"
  echo
  echo "Oqto is uninstalled, and its data and config are gone too${users:+, as are ${users}}."
}

if ((UNINSTALL)); then
  uninstall
  exit 0
fi

# ---------------------------------------------------------------------------------------------------
# Install: checks
# ---------------------------------------------------------------------------------------------------

step "checking this machine"
case $(uname -m) in
  x86_64 | amd64) ARCH=x64 ;;
  aarch64 | arm64) ARCH=arm64 ;;
  *) fail "unsupported architecture $(uname -m): Oqto runs on x86_64 and aarch64" ;;
esac
[[ $(uname -s) == Linux ]] || fail "Oqto runs on Linux only (its sandbox is bubblewrap)"
OS_ID=unknown
if [[ -r /etc/os-release ]]; then
  # shellcheck source=/dev/null
  OS_ID=$(. /etc/os-release && echo "${ID:-unknown} ${ID_LIKE:-}")
fi
IS_DEBIAN=0
[[ " ${OS_ID} " == *" debian "* || " ${OS_ID} " == *" ubuntu "* ]] && IS_DEBIAN=1
((IS_DEBIAN)) || echo "install: note: ${OS_ID% } is untested (Debian 12 and Ubuntu 24.04 are); missing packages must be installed by hand"

[[ -z ${MODE} ]] && MODE=${PREVIOUS[mode]:-}
if [[ -z ${MODE} ]]; then
  if ((IS_ROOT && HAS_SYSTEMD)); then MODE=multi; else MODE=single; fi
fi
if [[ ${MODE} == multi ]]; then
  ((IS_ROOT)) || fail "--multi-user needs root: it creates a Linux user per platform user (run: sudo ./install.sh)"
  ((HAS_SYSTEMD)) || echo "install: note: systemd is not running here: the unit is installed but not started"
fi
[[ -z ${RUN_AS} || ${MODE} == single ]] || fail "--run-as is for single-user mode; multi-user uses [multi_user] service_user"
if [[ ${MODE} == single ]] && ((IS_ROOT)); then
  RUN_AS=${RUN_AS:-${PREVIOUS[run_as]:-oqto}}
fi
if [[ ${MODE} == multi ]]; then
  CONFIG=${ETC_DIR}/config.toml
else
  CONFIG=${USER_CONFIG_DIR}/config.toml
  DATA_DIR=${DATA_DIR:-${PREVIOUS[data_dir]:-${USER_DATA_DIR}}}
fi
safe_path "the prefix" "${PREFIX}"
safe_path "the config file" "${CONFIG}"
[[ -z ${DATA_DIR} ]] || safe_path "the data dir" "${DATA_DIR}"
echo "install: ${MODE}-user install into ${PREFIX} (config ${CONFIG})"

# ---------------------------------------------------------------------------------------------------
# Install: packages and the binary
# ---------------------------------------------------------------------------------------------------

apt_install() {
  ((IS_ROOT && IS_DEBIAN)) || fail "missing: $*; install it and run install.sh again"
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@"
}

if ! command -v bwrap >/dev/null; then
  step "installing bubblewrap (every agent and terminal runs in its sandbox)"
  if ((IS_ROOT)); then apt_install bubblewrap; else
    echo "install: note: bubblewrap is missing and only root can install it: agents will not start until it is (apt-get install bubblewrap)"
  fi
fi
if [[ ${MODE} == multi ]] && ! command -v setpriv >/dev/null; then
  step "installing util-linux (setpriv drops privileges to each user)"
  apt_install util-linux
fi

# The binary to install: given, built from this checkout, or downloaded and checked.
SOURCE_BINARY=""
if [[ -n ${OQTO_BINARY:-} ]]; then
  [[ -x ${OQTO_BINARY} ]] || fail "OQTO_BINARY=${OQTO_BINARY} is not an executable file"
  SOURCE_BINARY=${OQTO_BINARY}
elif [[ -n ${CHECKOUT} ]]; then
  if ((IS_ROOT)); then
    step "installing what the build needs (scripts/setup-deps.sh)"
    OQTO_SKIP_BROWSER=1 bash "${CHECKOUT}/scripts/setup-deps.sh"
  else
    command -v bun >/dev/null || fail "building from a checkout needs bun on PATH (as root install.sh installs it)"
    step "installing the npm dependencies"
    (cd "${CHECKOUT}" && bun install --frozen-lockfile)
  fi
  step "building ${CHECKOUT}/dist/oqto"
  (cd "${CHECKOUT}" && bun run build)
  SOURCE_BINARY=${CHECKOUT}/dist/oqto
else
  url=${OQTO_RELEASE_URL:-https://github.com/oqto/oqto/releases/latest/download/oqto-linux-${ARCH}}
  command -v curl >/dev/null || {
    step "installing curl"
    apt_install curl ca-certificates
  }
  step "downloading ${url}"
  DOWNLOAD_DIR=$(mktemp -d)
  trap 'rm -rf "${DOWNLOAD_DIR}"' EXIT
  curl -fsSL --retry 3 -o "${DOWNLOAD_DIR}/oqto" "${url}"
  expected=${OQTO_RELEASE_SHA256:-$(curl -fsSL --retry 3 "${url}.sha256" | cut -d' ' -f1)}
  actual=$(sha256sum "${DOWNLOAD_DIR}/oqto" | cut -d' ' -f1)
  [[ ${expected} =~ ^[0-9a-f]{64}$ ]] || fail "no sha256 for ${url} (set OQTO_RELEASE_SHA256 or publish ${url}.sha256)"
  [[ ${actual} == "${expected}" ]] || fail "the download's sha256 is ${actual}, expected ${expected}: not installing it"
  chmod 0755 "${DOWNLOAD_DIR}/oqto"
  SOURCE_BINARY=${DOWNLOAD_DIR}/oqto
fi
"${SOURCE_BINARY}" version >/dev/null || fail "${SOURCE_BINARY} does not run on this machine"

CHANGED=0
step "installing ${BIN}"
mkdir -p "${PREFIX}/bin" "${LIB_DIR}"
if same_file "${SOURCE_BINARY}" "${BIN}"; then
  echo "install: ${BIN} is already this build ($("${BIN}" version))"
else
  # A new file renamed over the old one: a running oqto keeps its own until it restarts.
  cp "${SOURCE_BINARY}" "${BIN}.new"
  chmod 0755 "${BIN}.new"
  mv -f "${BIN}.new" "${BIN}"
  CHANGED=1
fi

# ---------------------------------------------------------------------------------------------------
# Install: config, pi, users, directories
# ---------------------------------------------------------------------------------------------------

# Flags apply to a config this run writes; a kept config is the administrator's.
config_note() {
  local flag=$1 given=$2 effective=$3
  [[ -z ${given} || ${given} == "${effective}" ]] && return 0
  echo "install: note: ${CONFIG} is kept as it is: ${flag} ${given} was not applied (it says ${effective}); edit the file to change it"
}

if [[ -f ${CONFIG} ]]; then
  step "keeping ${CONFIG}"
else
  step "writing ${CONFIG}"
  mkdir -p "$(dirname "${CONFIG}")"
  if [[ ${MODE} == multi ]]; then
    config_text="# Oqto, multi-user (written by install.sh, kept on upgrade). Every key: docs/CONFIGURATION.md.
[server]
host = \"${HOST:-127.0.0.1}\"
port = ${PORT:-8080}
multi_user = true
# Behind a reverse proxy with TLS (docs/OPERATIONS.md): the address people open, and Secure cookies.
# public_url = \"https://oqto.example.com\"
# secure_cookies = \"always\"

[multi_user]
service_user = \"oqto\"
data_dir = \"${DATA_DIR:-/var/lib/oqto}\""
  else
    config_text="# Oqto, single-user (written by install.sh, kept on upgrade). Every key: docs/CONFIGURATION.md.
[server]
host = \"${HOST:-127.0.0.1}\"
port = ${PORT:-8080}"
    # As root, serve runs its runner as this unprivileged user (it refuses to run agents as root).
    [[ -z ${RUN_AS} ]] || config_text+=$'\n'"run_as = \"${RUN_AS}\""
  fi
  write_if_changed "${CONFIG}" "${config_text}" 0644
fi

# The effective settings, from the binary reading the config (this also validates the file).
step "checking ${CONFIG}"
declare -A INFO=()
info_text=$("${BIN}" install-info --config "${CONFIG}")
while IFS='=' read -r key value; do INFO[${key}]=${value}; done <<<"${info_text}"
config_note --host "${HOST}" "${INFO[host]}"
config_note --port "${PORT}" "${INFO[port]}"
if [[ ${MODE} == multi ]]; then
  config_note --data-dir "${DATA_DIR}" "${INFO[data_dir]}"
  DATA_DIR=${INFO[data_dir]}
  [[ ${INFO[multi_user]} == true ]] || fail "${CONFIG} has [server] multi_user = false, but this is a multi-user install"
  for key in data_dir home_base runtime_dir log_dir; do safe_path "[multi_user] ${key}" "${INFO[${key}]}"; done
else
  config_note --run-as "${RUN_AS}" "${INFO[run_as]}"
  RUN_AS=${INFO[run_as]}
  if ((IS_ROOT)) && [[ -z ${RUN_AS} ]]; then
    fail "${CONFIG} has no [server] run_as: as root, serve needs the unprivileged user its runner runs as"
  fi
fi

PI_VERSION=${INFO[pi_version]}
installed_pi=""
pi_package=${PI_DIR}/node_modules/@mariozechner/pi-coding-agent/package.json
[[ -f ${pi_package} ]] && installed_pi=$(sed -n 's/^[[:space:]]*"version":[[:space:]]*"\([^"]*\)".*/\1/p' "${pi_package}" | head -n 1)
if [[ ${installed_pi} == "${PI_VERSION}" ]]; then
  step "keeping pi ${PI_VERSION} in ${PI_DIR}"
else
  step "installing pi ${PI_VERSION} into ${PI_DIR}"
  rm -rf "${PI_DIR}.new"
  mkdir -p "${PI_DIR}.new"
  printf '{ "name": "oqto-pi", "private": true, "dependencies": { "@mariozechner/pi-coding-agent": "%s" } }\n' \
    "${PI_VERSION}" >"${PI_DIR}.new/package.json"
  # The oqto binary embeds Bun: with BUN_BE_BUN=1 it is `bun`, so no separate Bun is needed.
  (cd "${PI_DIR}.new" && BUN_BE_BUN=1 "${BIN}" install --production --no-summary)
  rm -rf "${PI_DIR}.old"
  [[ -d ${PI_DIR} ]] && mv "${PI_DIR}" "${PI_DIR}.old"
  mv "${PI_DIR}.new" "${PI_DIR}"
  rm -rf "${PI_DIR}.old"
  CHANGED=1
fi

CREATED_USER=${PREVIOUS[created_user]:-}
make_system_user() {
  local name=$1 home=$2
  shift 2
  id "${name}" >/dev/null 2>&1 && return 0
  step "creating the Linux user ${name}"
  useradd --system --user-group --home-dir "${home}" --shell /usr/sbin/nologin "$@" "${name}"
}

if [[ ${MODE} == multi ]]; then
  SERVICE_USER=${INFO[service_user]}
  make_system_user "${SERVICE_USER}" "${DATA_DIR}" --no-create-home
  step "making the directories"
  install -d -m 0700 -o "${SERVICE_USER}" -g "${SERVICE_USER}" "${DATA_DIR}"
  install -d -m 0750 -o root -g root "${INFO[log_dir]}"
  [[ -d ${INFO[home_base]} ]] || install -d -m 0755 -o root -g root "${INFO[home_base]}"
  [[ ${INFO[runtime_dir]} == /run/* ]] || install -d -m 0755 -o root -g root "${INFO[runtime_dir]}"
  chown root:root "${ETC_DIR}"
  chmod 0755 "${ETC_DIR}"
  chown root:root "${CONFIG}"
  # Runners read the sandbox file, so it is world-readable; only root may change it or its directory.
  if [[ -f ${ETC_DIR}/sandbox.toml ]]; then
    step "keeping ${ETC_DIR}/sandbox.toml"
  else
    step "writing ${ETC_DIR}/sandbox.toml"
    cat >"${ETC_DIR}/sandbox.toml" <<'EOF'
# The sandbox every agent and terminal runs in (written by install.sh, kept on upgrade).
# Built-in profiles: minimal, development (the host's network, no nested user namespaces),
# strict (no network but the LLM through Oqto). Workspaces can only make it stricter.
# Details: docs/CONFIGURATION.md "The sandbox"; changes apply to the next agent that starts.
enabled = true
profile = "development"
EOF
    chmod 0644 "${ETC_DIR}/sandbox.toml"
  fi
elif ((IS_ROOT)); then
  if ! id "${RUN_AS}" >/dev/null 2>&1; then
    make_system_user "${RUN_AS}" "/home/${RUN_AS}" --create-home
    CREATED_USER=${RUN_AS}
  fi
  install -d -m 0700 "${DATA_DIR}"
else
  install -d -m 0700 "${DATA_DIR}"
fi

# ---------------------------------------------------------------------------------------------------
# Install: the systemd unit (multi-user)
# ---------------------------------------------------------------------------------------------------

UNIT=""
if [[ ${MODE} == multi ]]; then
  UNIT=${SYSTEMD_DIR}/${UNIT_NAME}
  step "writing ${UNIT}"
  mkdir -p "${SYSTEMD_DIR}"
  # The unit's one copy is in the binary (src/cli/systemd-unit.ts), for this binary and this config.
  unit_text=$("${BIN}" install-info --systemd-unit --config "${CONFIG}")
  write_if_changed "${UNIT}" "${unit_text}" 0644
  if ((WROTE)); then CHANGED=1; else echo "install: ${UNIT} is unchanged"; fi
  if command -v systemd-analyze >/dev/null; then
    step "checking ${UNIT} with systemd-analyze verify"
    # It exits 0 on unknown keys and bad values too: any line about our unit is a failure.
    verify_output=$(systemd-analyze verify "${UNIT}" 2>&1) || {
      echo "${verify_output}" >&2
      false
    }
    if grep -qF "${UNIT}:" <<<"${verify_output}"; then
      echo "${verify_output}" >&2
      fail "systemd-analyze verify found problems in ${UNIT} (above)"
    fi
    [[ -z ${verify_output} ]] || echo "install: systemd-analyze verify, about other units: ${verify_output}"
  fi
fi

write_if_changed "$(dirname "${CONFIG}")/install.manifest" "prefix=${PREFIX}
mode=${MODE}
config=${CONFIG}
etc_dir=$([[ ${MODE} == multi ]] && echo "${ETC_DIR}")
data_dir=${DATA_DIR}
unit=${UNIT}
service_user=$([[ ${MODE} == multi ]] && echo "${INFO[service_user]}")
run_as=${RUN_AS}
created_user=${CREATED_USER}
home_base=$([[ ${MODE} == multi ]] && echo "${INFO[home_base]}")
runtime_dir=$([[ ${MODE} == multi ]] && echo "${INFO[runtime_dir]}")
log_dir=$([[ ${MODE} == multi ]] && echo "${INFO[log_dir]}")" 0644

# ---------------------------------------------------------------------------------------------------
# Install: start, and tell the administrator what next
# ---------------------------------------------------------------------------------------------------

connect_host() {
  case $1 in
    0.0.0.0) echo 127.0.0.1 ;;
    ::) echo ::1 ;;
    *) echo "$1" ;;
  esac
}
URL_HOST=$(connect_host "${INFO[host]}")
[[ ${URL_HOST} == *:* ]] && URL_HOST="[${URL_HOST}]"
URL="http://${URL_HOST}:${INFO[port]}"

# GET /api/health over bash's /dev/tcp: no curl needed.
healthy() {
  local host answer
  host=$(connect_host "${INFO[host]}")
  exec 3<>"/dev/tcp/${host}/${INFO[port]}" || return 1
  printf 'GET /api/health HTTP/1.0\r\nHost: localhost\r\n\r\n' >&3
  IFS= read -r -t 5 answer <&3 || answer=""
  exec 3<&-
  [[ ${answer} == *" 200 "* ]]
}

echo
if [[ ${MODE} == multi ]] && ((HAS_SYSTEMD && !NO_START)); then
  step "starting ${UNIT_NAME}" "Its log: journalctl -u oqto -n 50. The installed files stay; the service is what failed."
  started=$(date +%s)
  systemctl daemon-reload
  systemctl enable --quiet "${UNIT_NAME}"
  if ((CHANGED)) || ! systemctl is-active --quiet "${UNIT_NAME}"; then
    systemctl restart "${UNIT_NAME}"
  else
    echo "install: nothing changed; ${UNIT_NAME} keeps running"
    started=""
  fi
  step "waiting for ${URL}/api/health" "Its log: journalctl -u oqto -n 50"
  for _ in $(seq 1 60); do
    healthy 2>/dev/null && break
    sleep 0.5
  done
  healthy 2>/dev/null || fail "the service did not answer on ${URL} within 30 s: see journalctl -u oqto -n 50 (it stays installed; install.sh --uninstall removes it)"
  echo
  echo "Oqto $("${BIN}" version) runs as ${UNIT_NAME} on ${URL} (logs: journalctl -u oqto -f)."
  token=""
  if [[ -n ${started} ]]; then
    token=$(journalctl -u "${UNIT_NAME}" --since "@${started}" -o cat --no-pager 2>/dev/null |
      awk '/one-time setup token/ { want = 1; next } want && NF { token = $1; want = 0 } END { print token }')
  fi
  if [[ -n ${token} ]]; then
    echo "No admin exists yet: open ${URL}/setup and enter this one-time setup token (valid 24 h):"
    echo
    echo "  ${token}"
  else
    echo "First admin: the one-time setup token is in journalctl -u oqto (while no admin exists),"
    echo "or: runuser -u ${SERVICE_USER} -- ${BIN} user add NAME --admin --password-stdin --config ${CONFIG} --data-dir ${DATA_DIR}"
  fi
  [[ ${INFO[host]} == 127.0.0.1 || ${INFO[host]} == localhost || ${INFO[host]} == ::1 ]] &&
    echo "It listens on ${INFO[host]} only: put a reverse proxy with TLS in front (docs/OPERATIONS.md)."
elif [[ ${MODE} == multi ]]; then
  echo "Oqto $("${BIN}" version) is installed as ${UNIT}."
  if ((HAS_SYSTEMD)); then
    echo "Start it with: systemctl daemon-reload && systemctl enable --now ${UNIT_NAME}"
  else
    echo "systemd is not running here; start it in the foreground with: ${BIN} serve --multi-user --config ${CONFIG}"
  fi
  echo "It prints a one-time setup token for ${URL}/setup at its first start."
else
  start="${BIN} serve --config ${CONFIG} --data-dir ${DATA_DIR}"
  echo "Oqto $("${BIN}" version) is installed (single-user${RUN_AS:+: agents run as ${RUN_AS}})."
  echo "Start it with: ${start}"
  echo "It listens on ${URL} and prints a one-time setup token for ${URL}/setup at its first start."
  [[ :${PATH}: == *:${PREFIX}/bin:* ]] || echo "(${PREFIX}/bin is not on your PATH.)"
fi
exit 0
}
