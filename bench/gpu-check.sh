#!/usr/bin/env bash
# Real-GPU check of flare-agent's GPU figures (for a machine with an NVIDIA driver; settles what docs/measurement.md §6
# leaves open). Needs a node binary (the device image has none: give its path), the built dist/
# and the production node_modules (a trimmed copy of the project is enough: see below) and, for part 3
# only, python3 with CUDA torch. No registry access needed. Takes about a minute.
#
#   bash bench/gpu-check.sh [/path/to/node]    # or NODE=/path/to/node; GIB=4 HOLD_S=5 INTERVAL_MS=100
#
# Trimmed copy (dist + production node_modules, well under 64 MiB), made on a machine with npm:
#   npm run build && d=$(mktemp -d) && cp -r dist bench package.json package-lock.json "$d" &&
#   (cd "$d" && npm ci --omit=dev --ignore-scripts=false --no-audit --no-fund) && du -sh "$d"
#
# 1. Which source `auto` picks, why the others are not used, the driver's NVML entry points.
# 2. Idle device memory: our NVML reading next to nvidia-smi's.
# 3. For each source (nvml, nvidia-smi): `flare-agent profile --json -- python3 <allocate GIB, hold HOLD_S,
#    free, hold HOLD_S>` while a background loop records nvidia-smi's own readings, then our maxGpuMiB,
#    aucGpuMiBs and device-level figures next to the values expected from the python process's own
#    timestamps and nvidia-smi's per-process reading.
# 4. NVML counters (docs/gpu-accounting.md), with a CUDA process made by bench/cuda-alloc.mjs (no python):
#    1024 MiB held for HOLD_S s with a 3072 MiB spike of 40 ms, while a second process holds 512 MiB:
#    peakGpuMiBAccounting vs `nvidia-smi --query-accounted-apps` (needs `nvidia-smi -am 1`, else said and
#    skipped), gpuEnergyJ vs `nvidia-smi --query-gpu=energy.consumption` read around the run, and the
#    shared-gpu / gpu-shared-at-start flags and gpuSharedAtStart from the second process.
# Exit 0: figures agree (or no GPU here: "no GPU source", reported cleanly); 1: a figure disagrees.
set -uo pipefail
cd "$(dirname "$0")/.."

GIB=${GIB:-4}
HOLD_S=${HOLD_S:-5}
INTERVAL_MS=${INTERVAL_MS:-100}
NVML_LIB=${NVML_LIB:-libnvidia-ml.so.1}
NODE=${1:-${NODE:-node}}
TOLERANCE_MIB=2048
export CUDA_DEVICE_ORDER=PCI_BUS_ID # CUDA ordinal 0 = nvidia-smi's GPU 0

"$NODE" --version >/dev/null 2>&1 || { echo "gpu-check: no node at '$NODE' (give its path as the first argument)" >&2; exit 1; }
if [ ! -f dist/src/cli.js ]; then
  command -v npm >/dev/null && npm run build --silent || { echo "gpu-check: dist/ missing and no npm to build it" >&2; exit 1; }
fi
node() { "$NODE" "$@"; } # every `node` below is the given binary
work=$(mktemp -d /tmp/flare-gpu-check.XXXXXX)
smi_pid=""
cleanup() { [ -n "$smi_pid" ] && kill "$smi_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

echo "== 1. GPU source selection"
probe=$(NVML_LIB="$NVML_LIB" INTERVAL_MS="$INTERVAL_MS" node --input-type=module -e '
  const { selectGpuSource } = await import(process.cwd() + "/dist/src/gpu/select.js");
  const { source, reasons } = await selectGpuSource({ mode: "auto", nvmlLib: process.env.NVML_LIB, intervalMs: Number(process.env.INTERVAL_MS) });
  const out = { active: source.name, reasons, devices: source.devices(), sample: null, entryPoints: null };
  if (source.name !== "none") { await new Promise((r) => setTimeout(r, 1500)); out.sample = source.sample(); out.status = source.status(); }
  if (source.name === "nvml") {
    const { loadNvmlLib } = await import(process.cwd() + "/dist/src/gpu/nvml-lib.js");
    const lib = loadNvmlLib(process.env.NVML_LIB);
    out.entryPoints = { memory: lib.memory.map((m) => m.symbol), processes: lib.processes.map((p) => `${p.symbol} (${p.entryBytes}-byte entries)`) };
  }
  source.close();
  process.stdout.write(JSON.stringify(out));
') || { echo "gpu-check: probe failed" >&2; exit 1; }
active=$(node -e 'process.stdout.write(JSON.parse(process.argv[1]).active)' "$probe")
node -e 'const p = JSON.parse(process.argv[1]); console.log(`active: ${p.active}`); for (const [k, v] of Object.entries(p.reasons)) console.log(`  ${k}: ${v}`); if (p.entryPoints) console.log(`  NVML entry points: ${JSON.stringify(p.entryPoints)}`); for (const d of p.devices) console.log(`  GPU ${d.index} ${d.name} ${d.uuid} total ${d.totalMiB} MiB`);' "$probe"
if [ "$active" = "none" ]; then
  echo "no GPU source: nothing to check on this machine"
  exit 0
fi
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=index,driver_version,name --format=csv,noheader | sed 's/^/  driver: /'

echo "== 2. Idle device memory (ours vs nvidia-smi)"
node -e 'const p = JSON.parse(process.argv[1]); for (const d of p.sample.devices) console.log(`  ours (${p.active}): GPU ${d.index} used ${d.usedMiB} MiB of ${d.totalMiB}, util ${d.utilPct} %`); console.log(`  status: ${JSON.stringify(p.status)}; processes: ${JSON.stringify(p.sample.processes)}`);' "$probe"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=index,memory.used,memory.total,utilization.gpu --format=csv,noheader,nounits | sed 's/^/  nvidia-smi: index, used, total, util = /'

status=0
. bench/gpu-check-counters.sh # part 4, a function: run at the end
if ! python3 -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
  echo "== 3. skipped: python3 with CUDA torch is not available (nothing to allocate GPU memory with)"
  check_counters || status=1
  [ $status -eq 0 ] && echo "gpu-check: figures agree" || echo "gpu-check: some figures disagree (see DIFF lines)"
  exit $status
fi

cat > "$work/alloc.py" <<'PY'
# Allocate GIB on cuda:0, hold, free, hold; record own timestamps (stdout stays free for the agent's JSON).
import json, os, sys, time
import torch
gib, hold_s, out = float(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
torch.zeros(1, device="cuda"); torch.cuda.synchronize()        # CUDA context
t_ctx = time.time()
x = torch.empty(int(gib * 2**30), dtype=torch.uint8, device="cuda"); x.fill_(1); torch.cuda.synchronize()
t_alloc = time.time()
time.sleep(hold_s)
del x; torch.cuda.synchronize(); torch.cuda.empty_cache()
t_free = time.time()
time.sleep(hold_s)
json.dump({"pid": os.getpid(), "t_ctx": t_ctx, "t_alloc": t_alloc, "t_free": t_free, "t_end": time.time(),
           "torch_peak_reserved_mib": torch.cuda.max_memory_reserved() / 2**20}, open(out, "w"))
PY

# nvidia-smi's own view, one call per 200 ms with our timestamp (independent of the agent).
start_smi_log() {
  : > "$work/smi.log"
  ( while [ ! -e "$work/stop" ]; do
      t=$(date +%s.%N)
      nvidia-smi --query-compute-apps=pid,used_memory,gpu_uuid --format=csv,noheader,nounits 2>/dev/null | sed "s/^/apps, $t, /"
      nvidia-smi --query-gpu=index,uuid,memory.used --format=csv,noheader,nounits 2>/dev/null | sed "s/^/gpu, $t, /"
      sleep 0.2
    done ) >> "$work/smi.log" &
  smi_pid=$!
}

# Our figures next to nvidia-smi's and to the python process's own timestamps (argv: profile JSON, py JSON, smi log).
COMPARE_JS=$(cat <<'JS'
  import { readFileSync } from "node:fs";
  const [profilePath, pyPath, smiPath] = process.argv.slice(1);
  const ours = JSON.parse(readFileSync(profilePath, "utf8").trim().split("\n").at(-1));
  const py = JSON.parse(readFileSync(pyPath, "utf8"));
  const tol = Number(process.env.TOL);
  // nvidia-smi series for the python pid, and device-level for the GPU(s) it used.
  const apps = [], gpus = [];
  for (const line of readFileSync(smiPath, "utf8").split("\n")) {
    const f = line.split(",").map((s) => s.trim());
    if (f[0] === "apps" && Number(f[2]) === py.pid) apps.push({ t: Number(f[1]), mib: Number(f[3]), uuid: f[4] });
    if (f[0] === "gpu") gpus.push({ t: Number(f[1]), uuid: f[3], mib: Number(f[4]) });
  }
  const used = new Set(apps.map((a) => a.uuid));
  const dev = gpus.filter((g) => used.has(g.uuid));
  const clip = (m) => Math.max(0, m - tol);
  const auc = (s) => s.slice(1).reduce((a, p, i) => a + ((clip(p.mib) + clip(s[i].mib)) / 2) * (p.t - s[i].t), 0);
  const hold = apps.filter((a) => a.t > py.t_alloc + 0.3 && a.t < py.t_free - 0.3).map((a) => a.mib);
  const idle = apps.filter((a) => a.t > py.t_free + 0.5 && a.t < py.t_end - 0.3).map((a) => a.mib);
  const med = (xs) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] : NaN);
  const holdMiB = med(hold), idleMiB = med(idle);
  // Expected from the process's own timestamps and the driver's per-process figure while held/after free.
  const expectedAuc = clip(holdMiB) * (py.t_free - py.t_alloc) + clip(idleMiB) * (py.t_end - py.t_free);
  // nvidia-smi's own series is coarse (one call per ~0.2 s or slower): each step edge of an AUC may be off
  // by up to half its period times the clipped height, so its AUCs get that much slack on top of 5 %.
  const meanPeriodS = (s) => (s.length > 1 ? (s.at(-1).t - s[0].t) / (s.length - 1) : 0);
  const slack = (s) => Math.max(0, ...s.map((p) => clip(p.mib))) * meanPeriodS(s);
  const rows = [
    ["maxGpuMiB", ours.maxGpuMiB, Math.max(...apps.map((a) => a.mib)), 0, "nvidia-smi max for the pid"],
    ["aucGpuMiBs", ours.aucGpuMiBs, expectedAuc, 0, `(hold ${holdMiB} MiB − ${tol}) × ${(py.t_free - py.t_alloc).toFixed(2)} s + idle ${idleMiB} MiB`],
    ["aucGpuMiBs (smi trapezoids)", ours.aucGpuMiBs, auc(apps), slack(apps), `nvidia-smi every ${meanPeriodS(apps).toFixed(2)} s, ± ${slack(apps).toFixed(0)}`],
    ["maxGpuDeviceMiB", ours.maxGpuDeviceMiB, Math.max(...dev.map((g) => g.mib)), 0, "nvidia-smi memory.used max"],
    ["aucGpuDeviceMiBs", ours.aucGpuDeviceMiBs, auc(dev), slack(dev), `nvidia-smi trapezoids, ± ${slack(dev).toFixed(0)}`],
  ];
  console.log(`  status ${ours.status}, wallSeconds ${ours.wallSeconds?.toFixed(2)}, samples ${ours.sampleCount}, flags ${JSON.stringify(ours.flags)}`);
  console.log(`  torch peak reserved ${py.torch_peak_reserved_mib.toFixed(0)} MiB; driver per-process: hold ${holdMiB} MiB, after free ${idleMiB} MiB`);
  let bad = 0;
  for (const [name, got, want, extra, how] of rows) {
    // Agreement bounds: max 2 %; AUCs 5 % plus the sampling slack of the reference series.
    const bound = name.startsWith("max") ? 0.02 : 0.05;
    const ok = got !== null && Number.isFinite(want) && Math.abs(got - want) <= bound * Math.max(1, Math.abs(want)) + extra;
    if (!ok && name !== "aucGpuDeviceMiBs") bad++; // device level also moves with other tenants: report only
    console.log(`  ${ok ? "ok  " : "DIFF"} ${name.padEnd(28)} ours ${String(got === null ? null : got.toFixed(1)).padStart(10)}  expected ${want.toFixed(1).padStart(10)}  (${how})`);
  }
  process.exit(bad ? 1 : 0);
JS
)

for source in nvml nvidia-smi; do
  echo "== 3. profile --gpu-source $source: allocate $GIB GiB, hold $HOLD_S s, free, hold $HOLD_S s (interval $INTERVAL_MS ms)"
  rm -f "$work/stop" "$work/py.json"
  start_smi_log
  node dist/src/cli.js profile --json --gpu-source "$source" --nvml-lib "$NVML_LIB" --interval-ms "$INTERVAL_MS" \
    -- python3 "$work/alloc.py" "$GIB" "$HOLD_S" "$work/py.json" > "$work/profile.out" 2> "$work/profile.err"
  rc=$?
  touch "$work/stop"; wait "$smi_pid" 2>/dev/null; smi_pid=""
  if [ $rc -ne 0 ] || [ ! -s "$work/py.json" ]; then
    echo "  profile failed (exit $rc):"; tail -15 "$work/profile.err" | sed 's/^/    /'; status=1; continue
  fi
  TOL=$TOLERANCE_MIB node --input-type=module -e "$COMPARE_JS" "$work/profile.out" "$work/py.json" "$work/smi.log" || status=1
done
check_counters || status=1
[ $status -eq 0 ] && echo "gpu-check: figures agree" || echo "gpu-check: some figures disagree (see DIFF lines)"
exit $status
