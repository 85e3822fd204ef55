# Part 4 of bench/gpu-check.sh (sourced; uses $NODE, $NVML_LIB, $HOLD_S, $work and the node() wrapper):
# the NVML counters of docs/gpu-accounting.md against nvidia-smi on GPU 0.
#  a. accounting: our peakGpuMiBAccounting must equal nvidia-smi's max_memory_usage for the same pid
#     (both read the driver's record); gpuSpikeMissed is reported (a 40 ms spike at 100 ms ticks is missed
#     about 60 % of the time, so it is not a pass/fail figure).
#  b. energy: nvidia-smi's counter read just before and just after the profile spans the run and a bit
#     more (CLI start-up): ours must not exceed it (+2 %), and must cover at least the run's share of it.
#  c. sharing: a second CUDA process holding 512 MiB for the whole run → flags shared-gpu and
#     gpu-shared-at-start, gpuSharedAtStart 1 process, ~512+ MiB.

# Energy counter of GPU 0 in joules (nvidia-smi prints mJ on older drivers, J on newer: read the header).
smi_energy_j() {
  nvidia-smi -i 0 --query-gpu=energy.consumption --format=csv,nounits 2>/dev/null |
    awk -F', *' 'NR==1 { unit = ($0 ~ /\[mJ\]/) ? 1000 : 1 } NR==2 { if ($1 ~ /^[0-9.]+$/) printf "%.3f", $1 / unit; else print "NaN" }'
}

check_counters() {
  echo "== 4. NVML counters: accounting peak, energy, shared GPU (GPU 0)"
  if [ "$active" != "nvml" ]; then echo "  skipped: needs the NVML source (active: $active)"; return 0; fi
  local acct; acct=$(nvidia-smi -i 0 --query-gpu=accounting.mode,persistence_mode --format=csv,noheader 2>/dev/null)
  echo "  nvidia-smi accounting, persistence mode: $acct"
  rm -f "$work/other.json" "$work/alloc.json"
  # The second tenant: holds 512 MiB from before the run's start to after its end.
  node bench/cuda-alloc.mjs 512 $((HOLD_S + 6)) 0 0 "$work/other.json" &
  local other=$!
  sleep 2
  local e0 t0 e1 t1 rc
  e0=$(smi_energy_j); t0=$(date +%s.%N)
  node dist/src/cli.js profile --json --gpu-source nvml --nvml-lib "$NVML_LIB" --interval-ms 100 \
    -- "$NODE" bench/cuda-alloc.mjs 1024 "$HOLD_S" 3072 40 "$work/alloc.json" > "$work/counters.out" 2> "$work/counters.err"
  rc=$?
  e1=$(smi_energy_j); t1=$(date +%s.%N)
  nvidia-smi -i 0 --query-accounted-apps=pid,max_memory_usage,time --format=csv,noheader,nounits > "$work/accounted.csv" 2>&1
  wait "$other"
  if [ $rc -ne 0 ] || [ ! -s "$work/alloc.json" ]; then
    echo "  profile failed (exit $rc):"; tail -15 "$work/counters.err" | sed 's/^/    /'; return 1
  fi
  E0=$e0 E1=$e1 T0=$t0 T1=$t1 node --input-type=module -e '
    import { readFileSync } from "node:fs";
    const [outPath, allocPath, accPath] = process.argv.slice(1);
    const ours = JSON.parse(readFileSync(outPath, "utf8").trim().split("\n").at(-1));
    const alloc = JSON.parse(readFileSync(allocPath, "utf8"));
    const flags = ours.flags ?? [];
    let bad = 0;
    const line = (ok, name, text) => { if (ok === false) bad++; console.log(`  ${ok === null ? "info" : ok ? "ok  " : "DIFF"} ${name.padEnd(22)} ${text}`); };
    console.log(`  run: ${ours.wallSeconds?.toFixed(2)} s, maxGpuMiB ${ours.maxGpuMiB}, accounting ${ours.gpuAccountingMode}, flags ${JSON.stringify(flags)}`);
    // a. accounting
    const acc = readFileSync(accPath, "utf8").split("\n").map((l) => l.split(",").map((s) => s.trim())).filter((f) => Number(f[0]) === alloc.pid);
    if (ours.gpuAccountingMode !== "on") {
      line(null, "accounting", `off on GPU 0: skipped (the organiser enables it once: sudo nvidia-smi -am 1)`);
    } else {
      const smiMax = acc.length ? Number(acc.at(-1)[1]) : NaN;
      line(Number.isFinite(smiMax) && ours.peakGpuMiBAccounting !== null && Math.abs(ours.peakGpuMiBAccounting - smiMax) <= 1,
        "peakGpuMiBAccounting", `ours ${ours.peakGpuMiBAccounting} MiB, nvidia-smi --query-accounted-apps ${smiMax} MiB (pid ${alloc.pid}; allocated ${alloc.holdMiB} + spike ${alloc.spikeMiB} MiB)`);
      line(null, "gpuSpikeMissed", `${ours.gpuSpikeMissed} (sampled max ${ours.maxGpuMiB} MiB; a ${alloc.spikeMs} ms spike at 100 ms ticks)`);
      line(null, "gpuTimeSeconds", `ours ${ours.gpuTimeSeconds}, nvidia-smi time ${acc.length ? acc.at(-1)[2] : "?"} ms`);
    }
    // b. energy
    const smiJ = Number(process.env.E1) - Number(process.env.E0);
    const windowS = Number(process.env.T1) - Number(process.env.T0);
    if (!Number.isFinite(smiJ)) line(null, "gpuEnergyJ", `ours ${ours.gpuEnergyJ} (${ours.gpuEnergyMethod}); nvidia-smi energy.consumption not supported`);
    else {
      const share = Math.min(1, ours.wallSeconds / windowS);
      const ok = ours.gpuEnergyJ !== null && ours.gpuEnergyJ <= smiJ * 1.02 + 1 && ours.gpuEnergyJ >= smiJ * share * 0.8;
      line(ok, "gpuEnergyJ", `ours ${ours.gpuEnergyJ?.toFixed(1)} J (${ours.gpuEnergyMethod}) over ${ours.wallSeconds?.toFixed(2)} s; nvidia-smi ${smiJ.toFixed(1)} J over ${windowS.toFixed(2)} s around it`);
    }
    // c. sharing
    const shared = ours.gpuSharedAtStart ?? null;
    const sharedOk = flags.includes("shared-gpu") && flags.includes("gpu-shared-at-start") && shared?.processes === 1 && shared.usedMiB !== null && shared.usedMiB >= 512;
    line(sharedOk, "shared flags", `gpuSharedAtStart ${JSON.stringify(shared)}; flags gpu-shared-at-start ${flags.includes("gpu-shared-at-start")}, shared-gpu ${flags.includes("shared-gpu")} (second process held 512 MiB)`);
    process.exit(bad ? 1 : 0);
  ' "$work/counters.out" "$work/alloc.json" "$work/accounted.csv"
}
