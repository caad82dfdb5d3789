# Shared by scripts/run and scripts/test: system packages and the project's virtual environment.
# Sourced, not run. Installs with apt-get when root; otherwise prints the exact command and stops.

PYTHON=${PYTHON:-python3}
VENV=.venv

need_root_or_say() {
    # $1: Debian packages, $2: why
    if [ "$(id -u)" -eq 0 ]; then
        echo "==> installing $1 ($2)"
        if [ -z "${_APT_UPDATED:-}" ]; then
            DEBIAN_FRONTEND=noninteractive apt-get update -qq
            _APT_UPDATED=1
        fi
        # shellcheck disable=SC2086
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $1 >/dev/null
    else
        echo "error: missing Debian packages for $2. Install them with:" >&2
        echo "    sudo apt-get update && sudo apt-get install -y $1" >&2
        exit 1
    fi
}

ensure_venv() {
    # $1: requirements file to install (requirements/runtime.txt or requirements/test.txt)
    local lock=$1 stamp
    if [ ! -x "$VENV/bin/python" ]; then
        if ! "$PYTHON" -m venv "$VENV" >/dev/null 2>&1; then
            rm -rf "$VENV"
            need_root_or_say "python3-venv" "creating a virtual environment"
            "$PYTHON" -m venv "$VENV"
        fi
    fi
    stamp="$VENV/.installed-$(basename "$lock" .txt)-$(cat requirements/*.txt pyproject.toml | sha256sum | cut -c1-16)"
    if [ ! -f "$stamp" ]; then
        echo "==> installing Python dependencies from $lock"
        # The stamp is written only after both installs succeed, so a failed one is retried.
        "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$lock" ||
            { echo "error: installing $lock failed" >&2; exit 1; }
        "$VENV/bin/python" -m pip install -q --disable-pip-version-check --no-deps -e . ||
            { echo "error: installing the dialer package failed" >&2; exit 1; }
        rm -f "$VENV"/.installed-"$(basename "$lock" .txt)"-*
        touch "$stamp"
    fi
}

have_postgres_server() {
    ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || command -v pg_ctl >/dev/null 2>&1 || return 1
    # As root the throwaway server runs as the 'postgres' user, which Debian's package creates.
    [ "$(id -u)" -ne 0 ] || id postgres >/dev/null 2>&1
}

have_program() {
    # A path (a glob) names a library file, which no PATH lookup finds: sox's AMR-NB codec.
    case "$1" in /*) ls $1 >/dev/null 2>&1; return ;; esac
    # PostgreSQL's server programs live in /usr/lib/postgresql/<version>/bin, off the PATH.
    command -v "$1" >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/"$1" >/dev/null 2>&1
}

missing_debian_packages() {
    # $1: a list of "package program..." lines (# comments); prints the packages with a program
    # missing, space-separated.
    local package programs program missing=""
    while read -r package programs; do
        case "$package" in ''|'#'*) continue ;; esac
        for program in $programs; do
            if ! have_program "$program"; then
                missing="$missing $package"
                break
            fi
        done
    done < "$1"
    echo "${missing# }"
}
