#!/usr/bin/env bash
# Creates (or reuses) a Python virtual environment holding the pinned PyKMIP client set that the
# interop tests use, and prints the path of its python on the last line of stdout.
#
#   .ci/pykmip-venv.sh [VENV_DIR]        default: target/pykmip-venv (relative to the repository)
#
# The pins are the known-good set of ../shared/DESIGN.md §3 (newer cryptography releases drop
# algorithms PyKMIP imports). A venv whose recorded pins differ is rebuilt. Needs `python3 -m venv`
# (Debian: apt-get install python3-venv) and access to PyPI. Everything but the path goes to stderr.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=${1:-target/pykmip-venv}
pins=(pykmip==0.11.0 cryptography==50.0.2 SQLAlchemy==2.1.9 requests==2.34.2 six==1.17.0)
python=${PYTHON3:-python3}

mkdir -p "$(dirname "$venv")"
# Test processes may all ask at once: one builds, the others wait and reuse.
exec 9>"$venv.lock"
flock 9

stamp="$venv/kmipd-pins.txt"
if [ -x "$venv/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "${pins[*]}" ] \
    && "$venv/bin/python" -c 'import kmip.pie.client, cryptography' 2>/dev/null; then
    echo "reusing the PyKMIP venv in $venv" >&2
else
    echo "creating the PyKMIP venv in $venv (${pins[*]})" >&2
    if [ -e "$venv" ] && [ ! -f "$venv/pyvenv.cfg" ]; then
        echo "error: $venv exists and is not a Python venv; not replacing it" >&2
        exit 1
    fi
    rm -rf "$venv"
    if ! "$python" -m venv "$venv" >&2; then
        echo "error: '$python -m venv' failed; on Debian/Ubuntu: apt-get install -y python3-venv" >&2
        rm -rf "$venv"
        exit 1
    fi
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "${pins[@]}" >&2
    "$venv/bin/python" -c 'import kmip.pie.client, cryptography' >&2
    printf '%s' "${pins[*]}" > "$stamp"
fi
echo "$(cd "$venv" && pwd)/bin/python"
