#!/usr/bin/env bash
# Idempotent, non-interactive setup of everything `make build` and `make test` need.
set -euo pipefail
cd "$(dirname "$0")/.."

WASM_PACK_VERSION=0.15.1
GECKODRIVER_VERSION=0.37.1
# The toolchain rust-toolchain.toml pins. When the machine's stable Rust is that release (as on
# these machines), the name is linked to it rather than downloaded again; otherwise rustup
# installs it. Done before anything else runs cargo or rustup in this directory.
TOOLCHAIN=$(sed -n 's/^channel = "\(.*\)"$/\1/p' rust-toolchain.toml)
installed_toolchains=$(rustup toolchain list)
if [[ "$installed_toolchains" != *"$TOOLCHAIN-"* ]]; then
  stable_version=$(rustc +stable --version 2>/dev/null || true)
  if [[ "$stable_version" == "rustc $TOOLCHAIN "* ]]; then
    host=$(rustc +stable -vV | sed -n 's/^host: //p')
    ln -s "$(rustc +stable --print sysroot)" "$(rustup show home)/toolchains/$TOOLCHAIN-$host"
  else
    rustup toolchain install "$TOOLCHAIN" --profile minimal
  fi
fi

WASM_BINDGEN_VERSION=$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/[^0-9.]/, ""); print; exit}' Cargo.lock)

# Every check reads a command's whole answer into a string first and compares that. Never
# `tool --version | grep -q X` under pipefail: grep exits at its first match, a tool still
# printing (geckodriver prints its licence) dies of EPIPE, and the check reads "not installed".
# `|| true`: a missing tool is an empty answer, not a `set -e` exit.
has_line() { [[ $'\n'"$1"$'\n' == *$'\n'"$2"$'\n'* ]]; }

targets=$(rustup target list --installed 2>/dev/null) || true
has_line "$targets" wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
# The package build recompiles the standard library (scripts/build-pkg.mjs, step 1).
components=$(rustup component list --installed 2>/dev/null) || true
[[ $'\n'"$components" == *$'\n'rust-src* ]] || rustup component add rust-src

# `cargo_tool NAME VERSION CRATE [cargo install flags]`: installs CRATE unless the first line
# of `NAME --version` is exactly "NAME VERSION" (optionally followed by " …").
cargo_tool() {
  local name=$1 version=$2 crate=$3 out first
  shift 3
  out=$("$name" --version 2>/dev/null) || true
  first=${out%%$'\n'*}
  [[ $first == "$name $version" || $first == "$name $version "* ]] && return 0
  echo "setup: installing $crate $version (found: ${first:-nothing})"
  cargo install --quiet "$@" "$crate" --version "$version"
}
cargo_tool wasm-pack "$WASM_PACK_VERSION" wasm-pack
# Without --locked: the CLI's own lock file names a crate version this registry lacks.
cargo_tool wasm-bindgen "$WASM_BINDGEN_VERSION" wasm-bindgen-cli --force
cargo_tool geckodriver "$GECKODRIVER_VERSION" geckodriver --force

missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v chromedriver >/dev/null || missing+=(chromium-driver)
command -v firefox-esr >/dev/null || missing+=(firefox-esr)
# WebKit for the package's browser tests: WebKitWebDriver drives MiniBrowser under Xvfb.
command -v WebKitWebDriver >/dev/null || missing+=(webkit2gtk-driver)
command -v xvfb-run >/dev/null || missing+=(xvfb)
# The proxy's shared-cache tests start a real Redis (no persistence, a loopback port).
command -v redis-server >/dev/null || missing+=(redis-server)
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian's ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# JS dev tools, exactly as locked.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
