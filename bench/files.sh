#!/bin/sh
# bench/files.sh: peak memory of `d365 file upload` / `d365 file download` and of the emulator
# that stores the file, for files of each size given (MB), every size on a fresh emulator whose
# SQLite store is on disk (--data-dir). Flat memory means the peaks do not grow with the size.
#
#   sh bench/files.sh 10 100            # MODES="single chunked blocks" picks the upload paths
#
# Prints one line per size: the client's peak RSS for the upload and the download (getrusage via
# /usr/bin/time), the emulator's peak RSS (VmHWM) after both, the wall times, and whether the
# downloaded file's sha256 equals the uploaded one's.
set -eu
sizes=${*:-10 100}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/d365-files-bench.XXXXXX)
trap 'kill "$emu" 2>/dev/null || true; rm -rf "$work"' EXIT INT TERM
go build -o "$work/d365" "$root/cmd/d365"
cat > "$work/files.yaml" <<'YAML'
tenants: [{domain: filesbench.onmicrosoft.com}]
apps: [{name: files-bench, secrets: [{value: "files~bench~secret~for~the~emulator~only"}]}]
applicationUsers: [{app: files-bench, roles: [System Administrator]}]
limits: {requests: 100000}
schema:
  tables:
    - logicalName: new_document
      primaryNameColumn: new_name
      columns:
        - {logicalName: new_name, type: String}
        - {logicalName: new_file, type: File, maxSizeInKB: 1048576}
YAML
cd "$work"
printf '%-8s %-10s %-16s %-18s %-16s %-18s %-18s %s\n' size mode upload-rss upload-time download-rss download-time emulator-VmHWM sha256
for mb in $sizes; do
  for mode in ${MODES:-chunked blocks}; do
    if [ "$mode" = single ] && [ "$mb" -gt 128 ]; then continue; fi # one request carries at most 128 MB
    rm -rf data env got.bin
    ./d365 emulator --port 0 --scenario files.yaml --data-dir data --env-file env >/dev/null 2>&1 &
    emu=$!
    while [ ! -f env ]; do sleep 0.1; done
    . ./env
    head -c "$((mb * 1048576))" /dev/urandom > in.bin
    id=$(./d365 create new_documents --data '{"new_name":"bench"}')
    /usr/bin/time -f '%M %e' -o up.time ./d365 file upload new_documents "$id" new_file in.bin --mode "$mode" >/dev/null
    /usr/bin/time -f '%M %e' -o down.time ./d365 file download new_documents "$id" new_file got.bin --mode "$mode" >/dev/null
    hwm=$(awk '/VmHWM/ {print $2}' "/proc/$emu/status")
    same=differs
    [ "$(sha256sum < in.bin)" = "$(sha256sum < got.bin)" ] && same=equal
    read -r up_rss up_s < up.time
    read -r down_rss down_s < down.time
    printf '%-8s %-10s %-16s %-18s %-16s %-18s %-18s %s\n' "${mb}MB" "$mode" "$((up_rss / 1024)) MB" "${up_s} s" \
      "$((down_rss / 1024)) MB" "${down_s} s" "$((hwm / 1024)) MB" "$same"
    kill -INT "$emu"; wait "$emu" || true
    rm -f in.bin got.bin
  done
done
