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

rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
# The package build recompiles the standard library (scripts/build-pkg.mjs, step 1).
rustup component list --installed | grep -q '^rust-src' || rustup component add rust-src

if ! wasm-pack --version 2>/dev/null | grep -q " $WASM_PACK_VERSION"; then
  echo "setup: installing wasm-pack $WASM_PACK_VERSION"
  cargo install --quiet wasm-pack --version "$WASM_PACK_VERSION"
fi
# Without --locked: the CLI's own lock file names a crate version this registry lacks.
if ! wasm-bindgen --version 2>/dev/null | grep -q " $WASM_BINDGEN_VERSION"; then
  echo "setup: installing wasm-bindgen-cli $WASM_BINDGEN_VERSION"
  cargo install --quiet --force wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
fi

if ! command -v geckodriver >/dev/null || ! geckodriver --version | grep -q " $GECKODRIVER_VERSION"; then
  echo "setup: installing geckodriver $GECKODRIVER_VERSION"
  cargo install --quiet --force geckodriver --version "$GECKODRIVER_VERSION"
fi

missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v chromedriver >/dev/null || missing+=(chromium-driver)
command -v firefox-esr >/dev/null || missing+=(firefox-esr)
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
