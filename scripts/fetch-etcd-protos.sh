#!/usr/bin/env bash
# Unpacks etcd's v3 API .proto files (and the two option-only packages they import) from
# Debian's golang-etcd-server-dev into .deps/etcd-proto/ (git-ignored), where CMake generates
# and compiles the C++ gRPC stubs of the etcd MetaStore adapter (wal/real/etcd_*).
#
#   scripts/fetch-etcd-protos.sh            fetch unless .deps/etcd-proto/ is already complete
#   scripts/fetch-etcd-protos.sh --force    fetch again
#
# The packages are downloaded with `apt-get download` and unpacked with `dpkg -x`, never
# installed: installing golang-etcd-server-dev would pull in about 145 Go packages and systemd,
# for six text files. Takes about 2 s. scripts/install-deps.sh calls it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=$root/.deps/etcd-proto
stamp=$out/SOURCE
if [[ "${1:-}" != "--force" && -f "$stamp" ]]; then
  echo "fetch-etcd-protos: present ($(head -1 "$stamp"))"
  exit 0
fi

packages=(golang-etcd-server-dev golang-github-gogo-protobuf-dev golang-github-gogo-googleapis-dev)
# Where each import path lives inside the unpacked packages (the files rpc.proto needs).
src=usr/share/gocode/src
files=(
  "$src/go.etcd.io|etcd/etcdserver/etcdserverpb/rpc.proto"
  "$src/go.etcd.io|etcd/mvcc/mvccpb/kv.proto"
  "$src/go.etcd.io|etcd/auth/authpb/auth.proto"
  "$src/github.com/gogo/protobuf|gogoproto/gogo.proto"
  "$src/github.com/gogo/googleapis|google/api/annotations.proto"
  "$src/github.com/gogo/googleapis|google/api/http.proto"
)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# apt-get download runs its fetcher as the unprivileged _apt user when it can write here.
chmod 0777 "$work"
download() { (cd "$work" && apt-get download "${packages[@]}" > "$work/download.log" 2>&1); }
if ! download; then
  # A machine whose package lists were never fetched knows no candidate to download.
  sudo_prefix=()
  [[ $(id -u) -eq 0 ]] || sudo_prefix=(sudo)
  echo "fetch-etcd-protos: apt-get download failed; updating the package lists and trying again"
  "${sudo_prefix[@]}" apt-get update -qq || true
  if ! download; then
    cat "$work/download.log" >&2
    echo "fetch-etcd-protos: apt-get download ${packages[*]} failed" >&2
    exit 1
  fi
fi
for deb in "$work"/*.deb; do dpkg -x "$deb" "$work/root"; done

rm -rf "$out.new"
for entry in "${files[@]}"; do
  base=${entry%%|*}
  file=${entry#*|}
  if [[ ! -f "$work/root/$base/$file" ]]; then
    echo "fetch-etcd-protos: $file is missing from the packages" >&2
    exit 1
  fi
  mkdir -p "$(dirname "$out.new/$file")"
  cp "$work/root/$base/$file" "$out.new/$file"
done
{
  for deb in "$work"/*.deb; do dpkg-deb -f "$deb" Package Version | paste -sd' '; done
} > "$out.new/SOURCE"
rm -rf "$out"
mkdir -p "$(dirname "$out")"
mv "$out.new" "$out"
echo "fetch-etcd-protos: $(wc -l < "$stamp") packages unpacked into .deps/etcd-proto"
