#!/usr/bin/env bash
# Prepares a private SoftHSM2 token for kmipd's tests, dev quick start and CI.
#
#   softhsm/setup.sh STATE_DIR TOKEN_LABEL SO_PIN USER_PIN [EXTRA_CONF_LINE...]
#
# Installs SoftHSM2 with apt-get when softhsm2-util is missing, writes STATE_DIR/softhsm2.conf pointing at
# STATE_DIR/tokens (never the machine's global token store), and initializes the token TOKEN_LABEL unless it
# already exists. Extra arguments are appended to the conf verbatim, e.g. "slots.mechanisms = -CKM_AES_GCM" to
# emulate an HSM that lacks a mechanism. Prints the conf path; export it as SOFTHSM2_CONF before C_Initialize.
set -euo pipefail

if [ "$#" -lt 4 ]; then
    echo "usage: $0 STATE_DIR TOKEN_LABEL SO_PIN USER_PIN [EXTRA_CONF_LINE...]" >&2
    exit 2
fi
state_dir=$1 label=$2 so_pin=$3 user_pin=$4
shift 4

if ! command -v softhsm2-util >/dev/null 2>&1; then
    # Serialize concurrent installs (parallel test binaries may all find it missing).
    exec 9>/tmp/kmipd-softhsm-install.lock
    flock 9
    if ! command -v softhsm2-util >/dev/null 2>&1; then
        export DEBIAN_FRONTEND=noninteractive
        sudo_cmd=""
        if [ "$(id -u)" != 0 ]; then sudo_cmd="sudo"; fi
        $sudo_cmd apt-get update -qq >&2
        $sudo_cmd apt-get install -y -qq softhsm2 >&2
    fi
    flock -u 9
fi

mkdir -p "$state_dir/tokens"
chmod 700 "$state_dir" "$state_dir/tokens"
state_dir=$(cd "$state_dir" && pwd)
conf="$state_dir/softhsm2.conf"
template="$(dirname "$0")/softhsm2.conf.in"
extra=$(printf '%s\n' "$@")
tokendir="$state_dir/tokens"
awk -v tokendir="$tokendir" -v extra="$extra" \
    '{ gsub(/@TOKENDIR@/, tokendir); gsub(/@EXTRA@/, extra); print }' "$template" > "$conf"
export SOFTHSM2_CONF="$conf"

# softhsm2-util pads labels with blanks: compare the trimmed value literally.
if ! softhsm2-util --show-slots 2>/dev/null | sed -n 's/^ *Label: *//p' | sed 's/ *$//' | grep -Fxq -- "$label"; then
    softhsm2-util --init-token --free --label "$label" --so-pin "$so_pin" --pin "$user_pin" >&2
fi
echo "$conf"
