/*
 * A stand-in libnvidia-ml.so.1 for tests and benches. It exports the NVML symbols flare-agent's binding
 * uses, with the real signatures and x86-64 struct layouts (docs/measurement.md §6), and answers from a text state
 * file named by $FLARE_NVML_STUB_STATE, re-read whenever its inode/mtime/size change so a test can
 * rewrite it (atomically, via rename) while the agent samples. With $FLARE_NVML_STUB_STATIC set, the
 * file is read once (benches: time the binding, not the stub's stat()).
 *
 * State file, one directive per line ('#' comments):
 *   device <uuid> <totalBytes> <usedBytes> <utilPct|NS> <name, rest of line>
 *   proc <deviceIndex> <pid> <usedBytes|NA> [<gpuInstanceId> <computeInstanceId>]
 *                                         (the ids default to 0xFFFFFFFF, MIG off)
 *   mig <deviceIndex> <gpuInstanceId> <computeInstanceId> <uuid> <totalBytes> <usedBytes>
 *                                         a MIG device of that GPU: its MIG mode is then on, and
 *                                         nvmlDeviceGetMigDeviceHandleByIndex lists these in order
 *   err <symbol> <nvmlReturn code>        inject a return code for every call of <symbol>
 *   pci <deviceIndex> <busId>             PCI bus id nvmlDeviceGetPciInfo_v3 reports (default
 *                                         00000000:<0x18 + index>:00.0)
 *   grow <k>                              k extra processes (pid 900000+i, 1 MiB) appear between the
 *                                         count probe (*count == 0) and the fill call, per device
 *   acctmode <deviceIndex> <0|1|NS>       accounting mode (default 0 = disabled, as a real GPU ships)
 *   acctbuf <n>                           accounting buffer size (default 4000): only the newest n
 *                                         records of a device are kept; older pids → NOT_FOUND
 *   acct <deviceIndex> <pid> <maxBytes|NA> <timeMs> <startTimeUs> <isRunning> <gpuUtil> <memUtil>
 *                                         one nvmlAccountingStats_t record, oldest first
 *   energy <deviceIndex> <mJ|NS>          nvmlDeviceGetTotalEnergyConsumption (unset: NOT_SUPPORTED)
 *   power <deviceIndex> <mW|NS>           nvmlDeviceGetPowerUsage (unset: NOT_SUPPORTED)
 *   driver <version> <cudaVersionInt>     nvmlSystemGetDriverVersion / nvmlSystemGetCudaDriverVersion_v2
 *   persist <deviceIndex> <0|1>           nvmlDeviceGetPersistenceMode (default 0)
 *   reset <generation>                    a GPU reset: device handles fetched before the latest
 *                                         generation answer GPU_IS_LOST (15) until nvmlInit_v2 and
 *                                         nvmlDeviceGetHandleByIndex_v2 are called again
 *   ramp <deviceIndex> <t0EpochMs> <p0mW> <slopeMWPerS> <e0mJ>
 *                                         power P(t) = p0 + slope·(t − t0) on the real clock, and the
 *                                         energy counter its exact integral e0 + ∫P, for whichever of
 *                                         energy/power has no line of its own (NS keeps it unsupported)
 *
 * Build variants (gcc -shared -fPIC): default = _v3 (24-byte entries, newest-driver markers) + _v2 +
 * unversioned; -DNO_V3 (driver 535.98 / R470: no _v3); -DENTRY32 (535.43–535.104: _v3 writes 32-byte
 * entries, ConfCompute present, RunningProcessDetailList absent); -DLEGACY (R440: unversioned only,
 * no GetMemoryInfo_v2); -DNO_ENERGY (no nvmlDeviceGetTotalEnergyConsumption symbol).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

typedef int nvmlReturn_t;
typedef struct stub_device *nvmlDevice_t;

#define MAX_DEVICES 16
#define MAX_PROCS 4096
#define MAX_ERRS 64
#define NOT_AVAILABLE 0xFFFFFFFFFFFFFFFFULL

struct stub_device {
  char uuid[128];
  char name[128];
  unsigned long long totalBytes, usedBytes;
  int utilPct; /* -1 = NOT_SUPPORTED */
  char busId[32]; /* "" = default from the index */
  unsigned parent, gi, ci; /* MIG devices only */
};
struct stub_proc { unsigned int dev, pid, gi, ci; unsigned long long usedBytes; };
#define MAX_MIGS 64
struct stub_acct {
  unsigned int dev, pid, running, gpuUtil, memUtil;
  unsigned long long maxBytes, timeMs, startUs;
};
/* Per device: accounting mode (-1 NOT_SUPPORTED), energy (mJ) and power (mW), -1 = NOT_SUPPORTED. */
struct stub_counters {
  int acctMode;
  long long energyMj, powerMw;
  int ramp, persist;
  double rampT0Ms, rampP0Mw, rampSlopeMwPerS, rampE0Mj;
};
#define MAX_ACCT 8192
struct stub_err { char symbol[96]; int code; };

static struct stub_device devices[MAX_DEVICES];
static struct stub_device migs[MAX_MIGS];
static unsigned nMigs;
static struct stub_proc procs[MAX_PROCS];
static struct stub_err errs[MAX_ERRS];
static struct stub_acct accts[MAX_ACCT];
static struct stub_counters counters[MAX_DEVICES];
static unsigned int nDevices, nProcs, nErrs, growBy, nAccts, acctBuf;
static char driverVersion[80];
static int resetGen, handleGen, reinitSinceReset;
static int cudaVersion;
static int initCount;
static struct stat lastStat;
static int loaded;

static void load_state(void) {
  /* Benches set FLARE_NVML_STUB_STATIC=1 to skip the per-call stat() and time the binding alone. */
  if (loaded && getenv("FLARE_NVML_STUB_STATIC")) return;
  const char *path = getenv("FLARE_NVML_STUB_STATE");
  struct stat st;
  if (!path || stat(path, &st) != 0) { nDevices = nProcs = nErrs = growBy = 0; loaded = 0; return; }
  if (loaded && st.st_ino == lastStat.st_ino && st.st_size == lastStat.st_size &&
      st.st_mtim.tv_sec == lastStat.st_mtim.tv_sec && st.st_mtim.tv_nsec == lastStat.st_mtim.tv_nsec)
    return;
  FILE *f = fopen(path, "r");
  if (!f) return;
  nDevices = nProcs = nErrs = growBy = nAccts = nMigs = 0;
  acctBuf = 4000;
  int newReset = 0;
  for (unsigned i = 0; i < MAX_DEVICES; i++) {
    counters[i].acctMode = 0;
    counters[i].energyMj = counters[i].powerMw = -1;
    counters[i].ramp = 0;
    counters[i].persist = 0;
  }
  snprintf(driverVersion, sizeof driverVersion, "%s", "550.54.15");
  cudaVersion = 12040;
  char line[512];
  while (fgets(line, sizeof line, f)) {
    line[strcspn(line, "\r\n")] = 0;
    char util[16]; char used[32]; int n = 0;
    if (strncmp(line, "device ", 7) == 0 && nDevices < MAX_DEVICES) {
      struct stub_device *d = &devices[nDevices];
      if (sscanf(line + 7, "%127s %llu %llu %15s %n", d->uuid, &d->totalBytes, &d->usedBytes, util, &n) >= 4) {
        snprintf(d->name, sizeof d->name, "%s", line + 7 + n);
        d->utilPct = strcmp(util, "NS") == 0 ? -1 : atoi(util);
        d->busId[0] = 0;
        nDevices++;
      }
    } else if (strncmp(line, "proc ", 5) == 0 && nProcs < MAX_PROCS) {
      struct stub_proc *p = &procs[nProcs];
      p->gi = p->ci = 0xFFFFFFFFu;
      if (sscanf(line + 5, "%u %u %31s %u %u", &p->dev, &p->pid, used, &p->gi, &p->ci) >= 3) {
        p->usedBytes = strcmp(used, "NA") == 0 ? NOT_AVAILABLE : strtoull(used, NULL, 10);
        nProcs++;
      }
    } else if (strncmp(line, "mig ", 4) == 0 && nMigs < MAX_MIGS) {
      struct stub_device *m = &migs[nMigs];
      memset(m, 0, sizeof *m);
      if (sscanf(line + 4, "%u %u %u %127s %llu %llu", &m->parent, &m->gi, &m->ci, m->uuid, &m->totalBytes, &m->usedBytes) == 6) {
        snprintf(m->name, sizeof m->name, "MIG %u.%u", m->gi, m->ci);
        m->utilPct = -1; /* utilisation is not supported on MIG devices */
        nMigs++;
      }
    } else if (strncmp(line, "err ", 4) == 0 && nErrs < MAX_ERRS) {
      if (sscanf(line + 4, "%95s %d", errs[nErrs].symbol, &errs[nErrs].code) == 2) nErrs++;
    } else if (strncmp(line, "pci ", 4) == 0) {
      unsigned dev; char bus[32];
      if (sscanf(line + 4, "%u %31s", &dev, bus) == 2 && dev < nDevices) snprintf(devices[dev].busId, sizeof devices[dev].busId, "%s", bus);
    } else if (strncmp(line, "grow ", 5) == 0) {
      growBy = (unsigned)atoi(line + 5);
    } else if (strncmp(line, "reset ", 6) == 0) {
      newReset = atoi(line + 6);
    } else if (strncmp(line, "driver ", 7) == 0) {
      sscanf(line + 7, "%79s %d", driverVersion, &cudaVersion);
    } else if (strncmp(line, "persist ", 8) == 0) {
      unsigned dev; int mode;
      if (sscanf(line + 8, "%u %d", &dev, &mode) == 2 && dev < MAX_DEVICES) counters[dev].persist = mode;
    } else if (strncmp(line, "acctbuf ", 8) == 0) {
      acctBuf = (unsigned)atoi(line + 8);
    } else if (strncmp(line, "acctmode ", 9) == 0) {
      unsigned dev; char mode[8];
      if (sscanf(line + 9, "%u %7s", &dev, mode) == 2 && dev < MAX_DEVICES)
        counters[dev].acctMode = strcmp(mode, "NS") == 0 ? -1 : atoi(mode);
    } else if (strncmp(line, "acct ", 5) == 0 && nAccts < MAX_ACCT) {
      struct stub_acct *a = &accts[nAccts];
      if (sscanf(line + 5, "%u %u %31s %llu %llu %u %u %u", &a->dev, &a->pid, used, &a->timeMs, &a->startUs,
                 &a->running, &a->gpuUtil, &a->memUtil) == 8) {
        a->maxBytes = strcmp(used, "NA") == 0 ? NOT_AVAILABLE : strtoull(used, NULL, 10);
        nAccts++;
      }
    } else if (strncmp(line, "energy ", 7) == 0 || strncmp(line, "power ", 6) == 0) {
      int isEnergy = line[0] == 'e';
      unsigned dev; char v[32];
      if (sscanf(line + (isEnergy ? 7 : 6), "%u %31s", &dev, v) == 2 && dev < MAX_DEVICES) {
        /* -2: NOT_SUPPORTED even under a ramp; -1 (unset): the ramp's, else NOT_SUPPORTED. */
        long long value = strcmp(v, "NS") == 0 ? -2 : strtoll(v, NULL, 10);
        if (isEnergy) counters[dev].energyMj = value; else counters[dev].powerMw = value;
      }
    } else if (strncmp(line, "ramp ", 5) == 0) {
      unsigned dev; double t0, p0, slope, e0;
      if (sscanf(line + 5, "%u %lf %lf %lf %lf", &dev, &t0, &p0, &slope, &e0) == 5 && dev < MAX_DEVICES) {
        counters[dev].ramp = 1;
        counters[dev].rampT0Ms = t0; counters[dev].rampP0Mw = p0;
        counters[dev].rampSlopeMwPerS = slope; counters[dev].rampE0Mj = e0;
      }
    }
  }
  fclose(f);
  if (newReset != resetGen) { resetGen = newReset; reinitSinceReset = 0; }
  lastStat = st;
  loaded = 1;
}

/* Reload the state and return the injected code for this symbol (0 = none). */
static int enter(const char *symbol) {
  load_state();
  for (unsigned i = 0; i < nErrs; i++)
    if (strcmp(errs[i].symbol, symbol) == 0) return errs[i].code;
  return 0;
}

static int valid(nvmlDevice_t d) { return d >= devices && d < devices + nDevices; }
static int is_mig(nvmlDevice_t d) { return d >= migs && d < migs + nMigs; }

#define ENTER(sym, needDevice, dev)                          \
  do {                                                       \
    int injected_ = enter(sym);                              \
    if (injected_) return injected_;                         \
    if (initCount <= 0) return 1; /* UNINITIALIZED */        \
    if ((needDevice) && !valid(dev)) return 2;               \
    if ((needDevice) && handleGen != resetGen) return 15;    \
  } while (0)

/* For calls that take a GPU or a MIG device handle (name, UUID, memory, utilisation). */
#define ENTER_ANY(sym, dev)                                  \
  do {                                                       \
    int injected_ = enter(sym);                              \
    if (injected_) return injected_;                         \
    if (initCount <= 0) return 1;                            \
    if (!valid(dev) && !is_mig(dev)) return 2;               \
    if (handleGen != resetGen) return 15;                    \
  } while (0)

nvmlReturn_t nvmlInit_v2(void) {
  int injected = enter("nvmlInit_v2");
  if (injected) return injected;
  initCount++;
  reinitSinceReset = 1;
  return 0;
}

nvmlReturn_t nvmlShutdown(void) {
  int injected = enter("nvmlShutdown");
  if (injected) return injected;
  if (initCount <= 0) return 1;
  initCount--;
  return 0;
}

const char *nvmlErrorString(nvmlReturn_t r) {
  switch (r) {
    case 0: return "Success";
    case 1: return "Uninitialized";
    case 2: return "Invalid Argument";
    case 3: return "Not Supported";
    case 4: return "Insufficient Permissions";
    case 6: return "Not Found";
    case 7: return "Insufficient Size";
    case 9: return "Driver Not Loaded";
    case 13: return "Function Not Found";
    case 15: return "GPU is lost";
    case 25: return "Argument version mismatch";
    default: return "Unknown Error";
  }
}

nvmlReturn_t nvmlDeviceGetCount_v2(unsigned int *count) {
  ENTER("nvmlDeviceGetCount_v2", 0, NULL);
  if (!count) return 2;
  *count = nDevices;
  return 0;
}

nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned int index, nvmlDevice_t *device) {
  ENTER("nvmlDeviceGetHandleByIndex_v2", 0, NULL);
  if (!device || index >= nDevices) return 2;
  /* Handles fetched after the re-init that follows a reset are good again. */
  if (reinitSinceReset) handleGen = resetGen;
  *device = &devices[index];
  return 0;
}

static nvmlReturn_t copy_string(const char *s, char *buf, unsigned int len) {
  if (!buf) return 2;
  if (strlen(s) + 1 > len) return 7;
  strcpy(buf, s);
  return 0;
}

nvmlReturn_t nvmlDeviceGetName(nvmlDevice_t d, char *name, unsigned int length) {
  ENTER_ANY("nvmlDeviceGetName", d);
  return copy_string(d->name, name, length);
}

nvmlReturn_t nvmlDeviceGetUUID(nvmlDevice_t d, char *uuid, unsigned int length) {
  ENTER_ANY("nvmlDeviceGetUUID", d);
  return copy_string(d->uuid, uuid, length);
}

typedef struct { unsigned long long total, free, used; } nvmlMemory_t;
typedef struct { unsigned int version; unsigned long long total, reserved, free, used; } nvmlMemory_v2_t;

nvmlReturn_t nvmlDeviceGetMemoryInfo(nvmlDevice_t d, nvmlMemory_t *m) {
  ENTER_ANY("nvmlDeviceGetMemoryInfo", d);
  if (!m) return 2;
  m->total = d->totalBytes;
  m->used = d->usedBytes;
  m->free = d->totalBytes - d->usedBytes;
  return 0;
}

#ifndef LEGACY
nvmlReturn_t nvmlDeviceGetMemoryInfo_v2(nvmlDevice_t d, nvmlMemory_v2_t *m) {
  ENTER_ANY("nvmlDeviceGetMemoryInfo_v2", d);
  if (!m) return 2;
  if (m->version != (unsigned)(sizeof(nvmlMemory_v2_t) | (2u << 24))) return 25;
  m->total = d->totalBytes;
  m->reserved = 0;
  m->used = d->usedBytes;
  m->free = d->totalBytes - d->usedBytes;
  return 0;
}
#endif

/* nvmlPciInfo_t (v2/v3 layout): busIdLegacy[16], five unsigned ints, busId[32]. */
typedef struct {
  char busIdLegacy[16];
  unsigned int domain, bus, device, pciDeviceId, pciSubSystemId;
  char busId[32];
} nvmlPciInfo_t;

nvmlReturn_t nvmlDeviceGetPciInfo_v3(nvmlDevice_t d, nvmlPciInfo_t *pci) {
  ENTER("nvmlDeviceGetPciInfo_v3", 1, d);
  if (!pci) return 2;
  memset(pci, 0, sizeof *pci);
  unsigned idx = (unsigned)(d - devices);
  if (d->busId[0]) snprintf(pci->busId, sizeof pci->busId, "%s", d->busId);
  else snprintf(pci->busId, sizeof pci->busId, "00000000:%02X:00.0", 0x18 + idx);
  snprintf(pci->busIdLegacy, sizeof pci->busIdLegacy, "%.15s", pci->busId + 4);
  unsigned domain = 0, bus = 0, dev = 0;
  if (sscanf(pci->busId, "%x:%x:%x", &domain, &bus, &dev) == 3) { pci->domain = domain; pci->bus = bus; pci->device = dev; }
  pci->pciDeviceId = 0x233010DE;
  return 0;
}

typedef struct { unsigned int gpu, memory; } nvmlUtilization_t;

nvmlReturn_t nvmlDeviceGetUtilizationRates(nvmlDevice_t d, nvmlUtilization_t *u) {
  ENTER_ANY("nvmlDeviceGetUtilizationRates", d);
  if (!u) return 2;
  if (d->utilPct < 0) return 3;
  u->gpu = (unsigned)d->utilPct;
  u->memory = 0;
  return 0;
}

/* Fill process entries of entrySize bytes (16, 24 or 32) following the two-call convention. */
static nvmlReturn_t fill_procs(nvmlDevice_t d, unsigned int *count, void *infos, size_t entrySize) {
  if (!count) return 2;
  unsigned dev = (unsigned)(d - devices);
  unsigned extra = *count > 0 ? growBy : 0;
  unsigned n = extra;
  for (unsigned i = 0; i < nProcs; i++) if (procs[i].dev == dev) n++;
  if (*count < n) { *count = n; return n == 0 ? 0 : 7; }
  if (n > 0 && !infos) return 2;
  unsigned k = 0;
  for (unsigned i = 0; i < nProcs + extra; i++) {
    unsigned pid; unsigned long long used;
    unsigned gi = 0xFFFFFFFFu, ci = 0xFFFFFFFFu;
    if (i < nProcs) { if (procs[i].dev != dev) continue; pid = procs[i].pid; used = procs[i].usedBytes; gi = procs[i].gi; ci = procs[i].ci; }
    else { pid = 900000 + (i - nProcs); used = 1048576ULL; }
    unsigned char *e = (unsigned char *)infos + (size_t)k * entrySize;
    memset(e, 0, entrySize);
    memcpy(e, &pid, 4);
    memcpy(e + 8, &used, 8);
    if (entrySize >= 24) { memcpy(e + 16, &gi, 4); memcpy(e + 20, &ci, 4); }
    k++;
  }
  *count = k;
  return 0;
}

nvmlReturn_t nvmlDeviceGetComputeRunningProcesses(nvmlDevice_t d, unsigned int *count, void *infos) {
  ENTER("nvmlDeviceGetComputeRunningProcesses", 1, d);
  return fill_procs(d, count, infos, 16);
}

#ifndef LEGACY
nvmlReturn_t nvmlDeviceGetComputeRunningProcesses_v2(nvmlDevice_t d, unsigned int *count, void *infos) {
  ENTER("nvmlDeviceGetComputeRunningProcesses_v2", 1, d);
  return fill_procs(d, count, infos, 24);
}
#endif

#if !defined(NO_V3) && !defined(LEGACY)
nvmlReturn_t nvmlDeviceGetComputeRunningProcesses_v3(nvmlDevice_t d, unsigned int *count, void *infos) {
  ENTER("nvmlDeviceGetComputeRunningProcesses_v3", 1, d);
#ifdef ENTRY32
  return fill_procs(d, count, infos, 32);
#else
  return fill_procs(d, count, infos, 24);
#endif
}
/* Marker symbols the entry-size rule looks at (never called by the binding). */
nvmlReturn_t nvmlDeviceGetConfComputeMemSizeInfo(nvmlDevice_t d, void *info) { (void)d; (void)info; return 3; }
#ifndef ENTRY32
nvmlReturn_t nvmlDeviceGetRunningProcessDetailList(nvmlDevice_t d, void *plist) { (void)d; (void)plist; return 3; }
#endif
#endif

/* ---- Accounting, energy, power (docs/gpu-accounting.md) ---- */

typedef struct {
  unsigned int gpuUtilization;       /* @0 */
  unsigned int memoryUtilization;    /* @4 */
  unsigned long long maxMemoryUsage; /* @8 */
  unsigned long long time;           /* @16 */
  unsigned long long startTime;      /* @24 */
  unsigned int isRunning;            /* @32 */
  unsigned int reserved[5];          /* @36..55 */
} nvmlAccountingStats_t;
_Static_assert(sizeof(nvmlAccountingStats_t) == 56, "nvmlAccountingStats_t is 56 bytes on x86-64");

static unsigned dev_index(nvmlDevice_t d) { return (unsigned)(d - devices); }

/* Index in accts[] of the first record still in device dev's buffer (the newest acctBuf of them). */
static unsigned acct_window_start(unsigned dev) {
  unsigned n = 0;
  for (unsigned i = 0; i < nAccts; i++) if (accts[i].dev == dev) n++;
  unsigned skip = n > acctBuf ? n - acctBuf : 0;
  for (unsigned i = 0; i < nAccts; i++) {
    if (accts[i].dev != dev) continue;
    if (skip == 0) return i;
    skip--;
  }
  return nAccts;
}

nvmlReturn_t nvmlDeviceGetAccountingMode(nvmlDevice_t d, int *mode) {
  ENTER("nvmlDeviceGetAccountingMode", 1, d);
  if (!mode) return 2;
  int m = counters[dev_index(d)].acctMode;
  if (m < 0) return 3;
  *mode = m;
  return 0;
}

nvmlReturn_t nvmlDeviceGetAccountingBufferSize(nvmlDevice_t d, unsigned int *bufferSize) {
  ENTER("nvmlDeviceGetAccountingBufferSize", 1, d);
  if (!bufferSize) return 2;
  if (counters[dev_index(d)].acctMode < 0) return 3;
  *bufferSize = acctBuf;
  return 0;
}

nvmlReturn_t nvmlDeviceGetAccountingPids(nvmlDevice_t d, unsigned int *count, unsigned int *pids) {
  ENTER("nvmlDeviceGetAccountingPids", 1, d);
  if (!count) return 2;
  unsigned dev = dev_index(d);
  if (counters[dev].acctMode < 0) return 3;
  unsigned n = 0;
  for (unsigned i = acct_window_start(dev); i < nAccts; i++) if (accts[i].dev == dev) n++;
  if (*count < n) { *count = n; return 7; }
  if (n > 0 && !pids) return 2;
  unsigned k = 0;
  for (unsigned i = acct_window_start(dev); i < nAccts; i++) if (accts[i].dev == dev) pids[k++] = accts[i].pid;
  *count = k;
  return 0;
}

nvmlReturn_t nvmlDeviceGetAccountingStats(nvmlDevice_t d, unsigned int pid, nvmlAccountingStats_t *stats) {
  ENTER("nvmlDeviceGetAccountingStats", 1, d);
  if (!stats) return 2;
  unsigned dev = dev_index(d);
  if (counters[dev].acctMode < 0) return 3;
  /* The newest record of this pid wins (a recycled pid). */
  for (unsigned i = nAccts; i-- > acct_window_start(dev);) {
    struct stub_acct *a = &accts[i];
    if (a->dev != dev || a->pid != pid) continue;
    memset(stats, 0, sizeof *stats);
    stats->gpuUtilization = a->gpuUtil;
    stats->memoryUtilization = a->memUtil;
    stats->maxMemoryUsage = a->maxBytes;
    stats->time = a->timeMs;
    stats->startTime = a->startUs;
    stats->isRunning = a->running;
    return 0;
  }
  return 6; /* NOT_FOUND */
}

static double ramp_seconds(const struct stub_counters *c) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  double nowMs = (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
  double s = (nowMs - c->rampT0Ms) / 1e3;
  return s < 0 ? 0 : s;
}

#ifndef NO_ENERGY /* -DNO_ENERGY: a library without the symbol, so the binding must look it up as optional */
nvmlReturn_t nvmlDeviceGetTotalEnergyConsumption(nvmlDevice_t d, unsigned long long *energy) {
  ENTER("nvmlDeviceGetTotalEnergyConsumption", 1, d);
  if (!energy) return 2;
  const struct stub_counters *c = &counters[dev_index(d)];
  if (c->ramp && c->energyMj == -1) {
    double t = ramp_seconds(c);
    *energy = (unsigned long long)(c->rampE0Mj + c->rampP0Mw * t + c->rampSlopeMwPerS * t * t / 2);
    return 0;
  }
  if (c->energyMj < 0) return 3;
  *energy = (unsigned long long)c->energyMj;
  return 0;
}
#endif

nvmlReturn_t nvmlDeviceGetPowerUsage(nvmlDevice_t d, unsigned int *power) {
  ENTER("nvmlDeviceGetPowerUsage", 1, d);
  if (!power) return 2;
  const struct stub_counters *c = &counters[dev_index(d)];
  if (c->ramp && c->powerMw == -1) {
    *power = (unsigned int)(c->rampP0Mw + c->rampSlopeMwPerS * ramp_seconds(c));
    return 0;
  }
  if (c->powerMw < 0) return 3;
  *power = (unsigned int)c->powerMw;
  return 0;
}

/* ---- Environment (evaluate's summary.json) ---- */

nvmlReturn_t nvmlSystemGetDriverVersion(char *version, unsigned int length) {
  ENTER("nvmlSystemGetDriverVersion", 0, NULL);
  return copy_string(driverVersion, version, length);
}

nvmlReturn_t nvmlSystemGetCudaDriverVersion_v2(int *v) {
  ENTER("nvmlSystemGetCudaDriverVersion_v2", 0, NULL);
  if (!v) return 2;
  *v = cudaVersion;
  return 0;
}

nvmlReturn_t nvmlDeviceGetPersistenceMode(nvmlDevice_t d, int *mode) {
  ENTER("nvmlDeviceGetPersistenceMode", 1, d);
  if (!mode) return 2;
  *mode = counters[dev_index(d)].persist;
  return 0;
}

/* ---- MIG (docs/gpu-accounting.md): a GPU's MIG devices, and their instance ids ---- */

static unsigned migs_of(unsigned dev) {
  unsigned n = 0;
  for (unsigned i = 0; i < nMigs; i++) if (migs[i].parent == dev) n++;
  return n;
}

nvmlReturn_t nvmlDeviceGetMigMode(nvmlDevice_t d, unsigned int *current, unsigned int *pending) {
  ENTER("nvmlDeviceGetMigMode", 1, d);
  if (!current || !pending) return 2;
  *current = *pending = migs_of(dev_index(d)) > 0 ? 1 : 0;
  return 0;
}

nvmlReturn_t nvmlDeviceGetMaxMigDeviceCount(nvmlDevice_t d, unsigned int *count) {
  ENTER("nvmlDeviceGetMaxMigDeviceCount", 1, d);
  if (!count) return 2;
  *count = migs_of(dev_index(d)) > 0 ? 7 : 0; /* an A100/H100 has up to 7 MIG devices */
  return 0;
}

nvmlReturn_t nvmlDeviceGetMigDeviceHandleByIndex(nvmlDevice_t d, unsigned int index, nvmlDevice_t *mig) {
  ENTER("nvmlDeviceGetMigDeviceHandleByIndex", 1, d);
  if (!mig) return 2;
  unsigned dev = dev_index(d), k = 0;
  for (unsigned i = 0; i < nMigs; i++) {
    if (migs[i].parent != dev) continue;
    if (k++ == index) { *mig = &migs[i]; return 0; }
  }
  return 6; /* NOT_FOUND: no MIG device in that slot */
}

nvmlReturn_t nvmlDeviceGetGpuInstanceId(nvmlDevice_t d, unsigned int *id) {
  ENTER_ANY("nvmlDeviceGetGpuInstanceId", d);
  if (!id || !is_mig(d)) return 2;
  *id = d->gi;
  return 0;
}

nvmlReturn_t nvmlDeviceGetComputeInstanceId(nvmlDevice_t d, unsigned int *id) {
  ENTER_ANY("nvmlDeviceGetComputeInstanceId", d);
  if (!id || !is_mig(d)) return 2;
  *id = d->ci;
  return 0;
}
