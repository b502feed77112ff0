# Shared helpers for scripts/suites/*.sh (sourced, not run).
# Each ensure_* installs something only when it is missing, so repeated runs stay cheap.

ensure_rust_target() { # ensure_rust_target wasm32-unknown-unknown
  rustup target list --installed 2>/dev/null | grep -qx "$1" || rustup target add "$1"
}

ensure_rust_component() { # ensure_rust_component clippy rustfmt
  local c
  for c in "$@"; do
    rustup component list --installed 2>/dev/null | grep -q "^$c-" || rustup component add "$c"
  done
}

ensure_apt() { # ensure_apt pkg... : installs Debian packages that are not installed yet
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null
}

ensure_promtool() { # ensure_promtool DIR : DIR/promtool from Debian's prometheus package, without installing it
  # Only the static promtool binary is taken out of the .deb (no daemon, no service, no postinst).
  local dir="$1"
  [ -x "$dir/promtool" ] && return 0
  local tmp; tmp=$(mktemp -d)
  (cd "$tmp" && { apt-get download -qq prometheus 2>/dev/null || { apt-get update -qq && apt-get download -qq prometheus; }; } \
    && dpkg-deb -x prometheus_*.deb extracted)
  mkdir -p "$dir" && cp "$tmp/extracted/usr/bin/promtool" "$dir/promtool"
  rm -rf "$tmp"
}

ensure_cargo_bin() { # ensure_cargo_bin wasm-bindgen wasm-bindgen-cli 0.2.130 [cargo install args...]
  local bin="$1" crate="$2" version="$3"
  shift 3
  if command -v "$bin" >/dev/null 2>&1 && "$bin" --version 2>/dev/null | grep -q "$version"; then return 0; fi
  cargo install "$crate" --version "$version" "$@"
}

ensure_venv() { # ensure_venv DIR pip-args... : a virtual environment with those packages
  local dir="$1"; shift
  [ -x "$dir/bin/python" ] || python3 -m venv "$dir"
  "$dir/bin/python" -m pip install -q --disable-pip-version-check "$@"
}

ensure_chdb_venv() { # ensure_chdb_venv DIR [module...] : a venv with chdb-core (real ClickHouse in-process)
  # chdb-core installs --no-deps (~560 MB, once); each further module (pip name = import name) only when
  # it does not import yet, so a ready venv costs a few interpreter starts.
  local dir="$1"; shift
  [ -x "$dir/bin/python" ] || python3 -m venv "$dir"
  "$dir/bin/python" -c 'import chdb' 2>/dev/null \
    || "$dir/bin/python" -m pip install -q --disable-pip-version-check --no-deps chdb-core
  local m
  for m in "$@"; do
    "$dir/bin/python" -c "import $m" 2>/dev/null || "$dir/bin/python" -m pip install -q --disable-pip-version-check "$m"
  done
}
