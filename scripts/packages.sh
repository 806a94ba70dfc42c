# Sourced by scripts/setup.sh and scripts/interop-deps.sh: installing Debian packages.

# True when Debian package $1 is installed.
package_installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"
}

# Installs the given packages (none: nothing to do): apt-get update once, no recommends, through
# sudo when not root.
install_packages() {
  (($#)) || return 0
  echo "Installing missing Debian packages: $*"
  local sudo=""
  if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@"
}
