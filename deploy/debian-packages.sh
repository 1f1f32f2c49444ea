# shellcheck shell=bash
# Sourced by the project's scripts: installs, from Debian's packages, what provides the commands
# that are missing. The machines these scripts run on start from a fresh Debian (as root).
#
#   need_commands LOG COMMAND[:PACKAGE]...   PACKAGE defaults to COMMAND; apt-get's output to LOG
need_commands() {
  local log=$1 item wanted=()
  shift
  for item in "$@"; do
    command -v "${item%%:*}" >/dev/null || wanted+=("${item#*:}")
  done
  [ ${#wanted[@]} -eq 0 ] && return 0
  printf 'installing Debian packages: %s\n' "${wanted[*]}" >&2
  mkdir -p "$(dirname "$log")"
  { apt-get update -qq \
      && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${wanted[@]}"
  } >"$log" 2>&1 || { printf 'apt-get install %s failed, see %s\n' "${wanted[*]}" "$log" >&2; return 1; }
}
