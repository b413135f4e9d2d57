#!/usr/bin/env bash
# A Python virtual environment with the official Azure SDKs, for Tests/Conformance/azure_sdk_conformance.py.
#
#   PY=$(bash .ci/python-sdks.sh | tail -1)
#   "$PY" Tests/Conformance/azure_sdk_conformance.py --connection-string "..." --queue q ...
#
# The environment lives in ${CONDUIT_VENV:-<repo>/.build/conformance-venv}. It is created with `python3 -m venv`
# when it is missing or lacks the packages (azure-servicebus >= 7.15.0, azure-eventhub >= 5.15.1, websocket-client);
# when it is already complete the script only checks it and returns at once. If `python3 -m venv` does not work
# (Debian ships venv/ensurepip separately) and we are root, Debian's python3-venv is installed with apt-get.
# Settings: CONDUIT_VENV (where), CONDUIT_BASE_PYTHON (the interpreter to build it from, default python3).
# Progress goes to stderr; the last line of stdout is the environment's python.
set -euo pipefail

sdk_log() {
    echo "python-sdks.sh: $*" >&2
}

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv="${CONDUIT_VENV:-$repo/.build/conformance-venv}"
base_python="${CONDUIT_BASE_PYTHON:-python3}"
requirements=("azure-servicebus>=7.15.0" "azure-eventhub>=5.15.1" "websocket-client")

# Exit 0 when the interpreter has all packages at the minimum versions.
sdk_check() {
    "$1" - <<'EOF' 2>/dev/null
import sys
from importlib.metadata import version, PackageNotFoundError

minimum = {"azure-servicebus": (7, 15, 0), "azure-eventhub": (5, 15, 1), "websocket-client": (0,)}

def parts(text):
    out = []
    for piece in text.split("."):
        digits = "".join(ch for ch in piece if ch.isdigit())
        if not digits:
            break
        out.append(int(digits))
        if digits != piece:
            break
    return tuple(out)

try:
    for name, least in minimum.items():
        if parts(version(name)) < least:
            sys.exit(1)
    import azure.servicebus, azure.eventhub, websocket  # noqa: F401
except (PackageNotFoundError, ImportError):
    sys.exit(1)
EOF
}

venv_python="$venv/bin/python"
if [ -x "$venv_python" ] && sdk_check "$venv_python"; then
    sdk_log "ready: $venv"
    echo "$venv_python"
    exit 0
fi

if ! command -v "$base_python" >/dev/null 2>&1; then
    sdk_log "$base_python not found; install Python 3 (3.9 or later)"
    exit 1
fi

# A usable venv has a python and a pip. A half-made one (ensurepip missing) is removed and made again.
make_venv() {
    rm -rf "$venv"
    mkdir -p "$(dirname "$venv")"
    "$base_python" -m venv "$venv" >&2 && [ -x "$venv/bin/pip" ]
}

if [ ! -x "$venv/bin/pip" ]; then
    sdk_log "creating $venv"
    if ! make_venv; then
        if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
            if ! minor=$("$base_python" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")'); then
                sdk_log "$base_python does not run"
                exit 1
            fi
            sdk_log "python3 -m venv failed; installing python3-venv (python$minor-venv) with apt-get"
            export DEBIAN_FRONTEND=noninteractive
            apt-get update >&2
            apt-get install -y --no-install-recommends python3-venv >&2 ||
                apt-get install -y --no-install-recommends "python$minor-venv" >&2
            make_venv || { sdk_log "python3 -m venv still fails"; exit 1; }
        else
            sdk_log "python3 -m venv failed; install python3-venv (as root: apt-get install python3-venv)"
            exit 1
        fi
    fi
fi

sdk_log "installing ${requirements[*]}"
"$venv/bin/python" -m pip install --disable-pip-version-check --progress-bar off --upgrade "${requirements[@]}" >&2
if ! sdk_check "$venv_python"; then
    sdk_log "the packages are still missing or too old in $venv"
    exit 1
fi
"$venv_python" - >&2 <<'EOF'
from importlib.metadata import version
print("python-sdks.sh: " + ", ".join(f"{n} {version(n)}" for n in ("azure-servicebus", "azure-eventhub", "websocket-client")))
EOF
echo "$venv_python"
