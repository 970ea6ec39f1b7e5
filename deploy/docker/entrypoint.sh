#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# The entrypoint of every ims-core image, and a plain launcher outside containers:
#
#   entrypoint.sh [DAEMON] [DAEMON-ARGS...]     DAEMON: pcscf | icscf | scscf | ims-hss
#   entrypoint.sh --render DAEMON               print the rendered configuration, run nothing
#
# It renders the daemon's configuration template into the run directory and then execs the
# daemon in the foreground with -c on the rendered file, so the daemon is the process the
# container runtime (or systemd, or a test) signals: SIGTERM stops it, SIGHUP reloads it, and
# its exit status is the container's. Nothing else stays running.
#
# Rendering: ${NAME} in the template is replaced by the value of the environment variable
# NAME, ${NAME:-DEFAULT} by DEFAULT when NAME is unset or empty. A ${NAME} without a value
# stops the start with the file and line, and so does a value holding '"', '\' or a newline
# (it would end the libconfig string it is put in). A template without ${...} is used as is.
# Kubernetes gives POD_IP (the downward API); the other names are the deployment's.
#
# Environment (all optional):
#   IMS_DAEMON       DAEMON when no argument names it (the images set it)
#   IMS_CONFIG       the template (default $IMS_CONFIG_DIR/<pcscf|icscf|scscf|hss>.cfg)
#   IMS_CONFIG_DIR   default /etc/ims-core (the ConfigMap's mount)
#   IMS_RUN_DIR      where the rendered file goes (default /run/ims-core, which is also where
#                    the daemons put their control sockets for imsctl)
#   IMS_BIN_DIR      where the daemons are (default: this script's directory when it holds
#                    DAEMON, else the PATH)
#   IMS_LOG_LEVEL    passed as -L (else the file's log_level)
#   IMS_STATE_DIR    ims-hss only: passed as -s (else the file's state_dir)
#   IMS_RESOLVE      "VAR=HOST ..." : before rendering, set each VAR that is not set yet to
#                    HOST's first address (getent ahosts; IPv4 first), so that a template can
#                    name Services by DNS although the daemons want IP addresses (sip.hosts,
#                    Diameter peers). Retried for IMS_RESOLVE_WAIT seconds (default 60): a
#                    Service's name may appear in DNS after the pod starts.
set -euo pipefail

me=entrypoint
tmp_file=
die() {
    printf '%s: %s\n' "$me" "$*" >&2
    [ -z "$tmp_file" ] || rm -f "$tmp_file"
    exit 64
}

# resolve HOST: print HOST's first address, IPv4 preferred; empty when it has none yet.
resolve() {
    local a
    a=$(getent ahostsv4 "$1" 2>/dev/null | awk 'NR == 1 { print $1 }') || true
    [ -n "$a" ] || a=$(getent ahosts "$1" 2>/dev/null | awk 'NR == 1 { print $1 }') || true
    printf '%s' "$a"
}

# resolve_all: apply IMS_RESOLVE (bounded by IMS_RESOLVE_WAIT seconds for all names).
resolve_all() {
    local pair var host addr deadline
    deadline=$((SECONDS + ${IMS_RESOLVE_WAIT:-60}))
    for pair in ${IMS_RESOLVE:-}; do
        var=${pair%%=*}
        host=${pair#*=}
        [[ $var =~ ^[A-Za-z_][A-Za-z0-9_]*$ && -n $host && $pair == *=* ]] ||
            die "IMS_RESOLVE: \"$pair\" is not VAR=HOST"
        if [ -n "${!var:-}" ]; then
            printf '%s: %s=%s (set; %s not resolved)\n' "$me" "$var" "${!var}" "$host" >&2
            continue
        fi
        while addr=$(resolve "$host") && [ -z "$addr" ]; do
            [ "$SECONDS" -lt "$deadline" ] ||
                die "IMS_RESOLVE: $host has no address after ${IMS_RESOLVE_WAIT:-60} s"
            sleep 1
        done
        export "$var=$addr"
        printf '%s: %s=%s (%s)\n' "$me" "$var" "$addr" "$host" >&2
    done
}

# render_line FILE LINENO TEXT: TEXT with every ${NAME} / ${NAME:-DEFAULT} replaced. The value
# is never rescanned, so a value cannot pull in other variables.
render_line() {
    local file=$1 n=$2 rest=$3 out="" name def val
    local re='^([^$]*(\$[^{][^$]*)*)\$\{([A-Za-z_][A-Za-z0-9_]*)(:-([^}]*))?\}(.*)$'
    while [[ $rest =~ $re ]]; do
        name=${BASH_REMATCH[3]}
        def=${BASH_REMATCH[5]}
        out+=${BASH_REMATCH[1]}
        rest=${BASH_REMATCH[6]}
        if [ -n "${!name:-}" ]; then
            val=${!name}
        elif [ -n "${BASH_REMATCH[4]}" ]; then
            val=$def
        else
            die "$file:$n: \${$name} is not set"
        fi
        [[ $val != *[\"\\]* && $val != *$'\n'* ]] ||
            die "$file:$n: the value of $name holds a quote, backslash or newline"
        out+=$val
    done
    printf '%s\n' "$out$rest"
}

# render_file SRC: SRC rendered, on stdout (SRC is only read: its name is for messages).
# shellcheck disable=SC2094
render_file() {
    local line n=0
    while IFS= read -r line || [ -n "$line" ]; do
        n=$((n + 1))
        render_line "$1" "$n" "$line"
    done <"$1"
}

render_only=0
if [ "${1:-}" = --render ]; then
    render_only=1
    shift
fi
daemon=${1:-${IMS_DAEMON:-}}
[ $# -eq 0 ] || shift
case "$daemon" in
    pcscf | icscf | scscf) cfgname=$daemon ;;
    ims-hss | hss) daemon=ims-hss cfgname=hss ;;
    *) die "usage: entrypoint.sh [--render] pcscf|icscf|scscf|ims-hss [ARGS...] (or IMS_DAEMON)" ;;
esac
me="entrypoint[$daemon]"

config_dir=${IMS_CONFIG_DIR:-/etc/ims-core}
template=${IMS_CONFIG:-$config_dir/$cfgname.cfg}
run_dir=${IMS_RUN_DIR:-/run/ims-core}
[ -r "$template" ] || die "no configuration template $template (IMS_CONFIG / IMS_CONFIG_DIR)"

resolve_all
if [ "$render_only" = 1 ]; then
    render_file "$template"
    exit 0
fi

# Through a temporary file: a reader never sees half a file, a failed render leaves none.
mkdir -p "$run_dir" || die "cannot create $run_dir (IMS_RUN_DIR)"
config=$run_dir/$cfgname.cfg
tmp_file=$config.tmp.$$
render_file "$template" >"$tmp_file" || die "cannot write $tmp_file"
mv -f "$tmp_file" "$config" || die "cannot write $config"
tmp_file=

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
bin_dir=${IMS_BIN_DIR:-}
[ -n "$bin_dir" ] || { [ -x "$here/$daemon" ] && bin_dir=$here; }
if [ -n "$bin_dir" ]; then
    exe=$bin_dir/$daemon
    [ -x "$exe" ] || die "$exe is not an executable (IMS_BIN_DIR)"
else
    exe=$(command -v "$daemon") || die "$daemon is not in PATH (set IMS_BIN_DIR)"
fi

args=(-c "$config")
[ -z "${IMS_LOG_LEVEL:-}" ] || args+=(-L "$IMS_LOG_LEVEL")
[ "$daemon" != ims-hss ] || [ -z "${IMS_STATE_DIR:-}" ] || args+=(-s "$IMS_STATE_DIR")
printf '%s: %s rendered to %s; exec %s %s\n' "$me" "$template" "$config" "$exe" \
    "${args[*]} $*" >&2
exec "$exe" "${args[@]}" "$@"
