# Sourced by ./aether and ./run-tests: sets AETHER_JDK to a JDK whose version is >= 25.
# Order: $AETHER_JDK, $JAVA_HOME, the `java` on PATH, then the usual install folders.
# Why: the default `java` on many machines is 17; users should not have to export anything.

aether_jdk_major() {  # prints the feature version of the JDK at $1, or nothing
  local home=$1 v
  [ -x "$home/bin/java" ] || return 0
  if [ -f "$home/release" ]; then
    v=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$home/release")
  fi
  if [ -z "${v:-}" ]; then
    v=$("$home/bin/java" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -1)
  fi
  echo "${v:-}"
}

aether_find_jdk() {
  local c m candidates=()
  [ -n "${AETHER_JDK:-}" ] && candidates+=("$AETHER_JDK")
  [ -n "${JAVA_HOME:-}" ] && candidates+=("$JAVA_HOME")
  if command -v java >/dev/null 2>&1; then
    candidates+=("$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")")
  fi
  for c in /usr/lib/jvm/* /usr/java/* /opt/java/* /opt/jdk* "$HOME"/.sdkman/candidates/java/* \
           "$HOME"/.jdks/* /Library/Java/JavaVirtualMachines/*/Contents/Home; do
    [ -d "$c" ] && candidates+=("$c")
  done
  for c in "${candidates[@]}"; do
    m=$(aether_jdk_major "$c")
    if [ -n "$m" ] && [ "$m" -ge 25 ] 2>/dev/null; then AETHER_JDK=$c; export AETHER_JDK; return 0; fi
  done
  echo "aether: no JDK 25 or newer found (looked at \$AETHER_JDK, \$JAVA_HOME, the java on PATH, /usr/lib/jvm, ~/.sdkman, ~/.jdks)." >&2
  echo "aether: install one (e.g. Temurin 25) or point AETHER_JDK at it." >&2
  return 1
}
