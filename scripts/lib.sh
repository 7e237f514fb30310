# What scripts/test, scripts/bench and scripts/demo share; sourced by them, not run on its own.
# The scripts cd to the repository root before they source it: every path here is relative to that root.
# shellcheck shell=bash

# A step of a script, in bold.
say() { printf '\033[1m== %s\033[0m\n' "$*"; }

# The JDK to build and run with: JAVA_HOME when it is set, else the one the default javac belongs to (scripts/prereqs
# makes that 17 or newer). Falls back to /usr/bin/javac's JDK so that scripts/demo --stop works before prereqs ran.
xs_java_home() {
  local javac; javac=$(command -v javac 2>/dev/null || echo /usr/bin/javac)
  export JAVA_HOME=${JAVA_HOME:-$(dirname "$(dirname "$(readlink -f "$javac")")")}
}

# The project's version, read from the root pom.xml: the <version> that is a direct child of <project> (the root pom
# has no <parent>, and every other <version> in it is indented deeper). Parsing beats `mvn help:evaluate`, which takes
# seconds.
XS_VERSION=$(sed -n 's:^  <version>\([^<]*\)</version>.*:\1:p' pom.xml | head -1)
if [[ -z $XS_VERSION ]]; then
  echo "scripts/lib.sh: no project <version> found in $PWD/pom.xml" >&2
  exit 1
fi

# What the build produces and the scripts run.
XS_HARNESS_JAR=harness/target/xensnap-harness-$XS_VERSION.jar
XS_DIST_NAME=xensnap-distribution-$XS_VERSION           # the directory the distribution's tarball unpacks to
XS_DIST_TARBALL=distribution/target/$XS_DIST_NAME.tar.gz
XS_KARAF_ASSEMBLY=distribution/target/assembly          # the same Karaf, unpacked by the build

# ---- one leak check for every script ------------------------------------------------------------------------------
# xs_mark_run marks this run: every process it starts from then on inherits the marker in its environment, also when it
# leaves the script's session (setsid, a daemonizing Karaf). A process that still carries it at the end is this run's
# leak; other QEMUs, xenstoreds or Karafs on the machine (another build's tests) are not ours and are left alone.
xs_mark_run() { export XENSNAP_RUN="$$-$(date +%s%N)"; }

# xs_ours [REGEX [DIR]]: the pids of this run's live processes — those carrying the marker, and those whose command line
# contains DIR (for processes started with a cleared environment, e.g. the QEMUs libvirtd starts) — whose command line
# matches REGEX (every one when REGEX is empty). Call it on its own, as in $(xs_ours) or `for p in $(xs_ours)`: the
# other side of a pipeline would carry the marker too and count as ours.
xs_ours() {
  local filter=${1:-} dir=${2:-} p args IFS=$'\n'
  local -a argv envv
  # bash builtins only: a fork per process would make this take seconds on a busy machine
  for p in /proc/[0-9]*; do
    [[ ${p#/proc/} == "$$" || ${p#/proc/} == "$BASHPID" ]] && continue
    mapfile -d '' -t argv 2>/dev/null <"$p/cmdline" || continue
    (( ${#argv[@]} )) || continue                                 # kernel threads and zombies have no command line
    printf -v args '%s ' "${argv[@]}"
    [[ -z $filter || $args =~ $filter ]] || continue
    if [[ -n $dir && $args == *"$dir"* ]]; then echo "${p#/proc/}"; continue; fi
    mapfile -d '' -t envv 2>/dev/null <"$p/environ" || continue
    [[ $'\n'"${envv[*]}"$'\n' == *$'\n'"XENSNAP_RUN=$XENSNAP_RUN"$'\n'* ]] && echo "${p#/proc/}"
  done
  return 0
}

# xs_no_leaks WHO [REGEX [DIR]]: after a short grace for exits under way, fails (naming them) when any of xs_ours'
# processes is still alive.
xs_no_leaks() {
  local who=$1 leaked; shift
  sleep 2
  leaked=$(xs_ours "$@")
  [[ -z $leaked ]] && return 0
  echo "FAIL: $who left processes running:" >&2
  ps -o pid,args -p "$(paste -sd, <<<"$leaked")" >&2 || true
  return 1
}
