#!/bin/sh
# Builds one deployment zip per Lambda function (the binaries of
# functions/lambda) with cargo-lambda and the `lambda` profile:
# $LAMBDA_DIR/<function>/bootstrap.zip, LAMBDA_DIR being
# $CARGO_TARGET_DIR/lambda/<arch> (target/lambda/<arch> by default).
#
#   scripts/lambda.sh [x86_64|arm64]     (make lambda [ARCH=arm64])
#
# The host's own architecture links with the system linker; the other one
# through zig (cargo-zigbuild, which cargo-lambda brings), and needs the
# Rust standard library of that target (rustup target add ...).
set -eu

arch="${1:-x86_64}"
root=$(cd "$(dirname "$0")/.." && pwd)
case "$arch" in
  x86_64) triple=x86_64-unknown-linux-gnu; flag=--x86-64 ;;
  arm64) triple=aarch64-unknown-linux-gnu; flag=--arm64 ;;
  *) echo "ARCH must be x86_64 or arm64, not '$arch'" >&2; exit 2 ;;
esac
if [ ! -x "$root/.venv/bin/cargo-lambda" ]; then
  echo "cargo-lambda is not installed: make deps-lambda (pip install -r scripts/requirements-deploy.txt)" >&2
  exit 1
fi
if ! rustc --print sysroot >/dev/null 2>&1 ||
   [ ! -d "$(rustc --print sysroot)/lib/rustlib/$triple/lib" ]; then
  echo "the Rust standard library for $triple is not installed:" >&2
  echo "  rustup target add $triple   (or build for the other architecture: ARCH=x86_64)" >&2
  exit 1
fi
host=$(rustc -vV | sed -n 's/^host: //p')
if [ "$host" = "$triple" ]; then compiler=cargo; else compiler=cargo-zigbuild; fi

target_dir="${CARGO_TARGET_DIR:-$root/target}"
lambda_dir="${LAMBDA_DIR:-$target_dir/lambda/$arch}"
cd "$root"
# --disable-optimizations: the `lambda` profile in Cargo.toml says how to
# optimise (cargo-lambda's own defaults would make panics abort).
PATH="$root/.venv/bin:$PATH" cargo lambda build \
  --profile lambda --disable-optimizations \
  --compiler "$compiler" "$flag" \
  --output-format zip --lambda-dir "$lambda_dir" \
  -p taquilla-lambda --bins

echo
echo "function        bootstrap.zip   bootstrap ($arch, $lambda_dir)"
for zip in "$lambda_dir"/*/bootstrap.zip; do
  function=$(basename "$(dirname "$zip")")
  binary="$target_dir/$triple/lambda/$function"
  printf '%-15s %13s   %s\n' "$function" "$(wc -c <"$zip")" "$(wc -c <"$binary" 2>/dev/null || echo '?')"
done
