/*
 * A stand-in libnvidia-ml.so.1 for tests and benches. It exports the NVML symbols flare-agent's binding
 * uses, with the real signatures and x86-64 struct layouts (NVML.md §1), and answers from a text state
 * file named by $FLARE_NVML_STUB_STATE, re-read whenever its inode/mtime/size change so a test can
 * rewrite it (atomically, via rename) while the agent samples. With $FLARE_NVML_STUB_STATIC set, the
 * file is read once (benches: time the binding, not the stub's stat()).
 *
 * State file, one directive per line ('#' comments):
 *   device <uuid> <totalBytes> <usedBytes> <utilPct|NS> <name, rest of line>
 *   proc <deviceIndex> <pid> <usedBytes|NA>
 *   err <symbol> <nvmlReturn code>        inject a return code for every call of <symbol>
 *   pci <deviceIndex> <busId>             PCI bus id nvmlDeviceGetPciInfo_v3 reports (default
 *                                         00000000:<0x18 + index>:00.0)
 *   grow <k>                              k extra processes (pid 900000+i, 1 MiB) appear between the
 *                                         count probe (*count == 0) and the fill call, per device
 *
 * Build variants (gcc -shared -fPIC): default = _v3 (24-byte entries, newest-driver markers) + _v2 +
 * unversioned; -DNO_V3 (driver 535.98 / R470: no _v3); -DENTRY32 (535.43–535.104: _v3 writes 32-byte
 * entries, ConfCompute present, RunningProcessDetailList absent); -DLEGACY (R440: unversioned only,
 * no GetMemoryInfo_v2).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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
};
struct stub_proc { unsigned int dev, pid; unsigned long long usedBytes; };
struct stub_err { char symbol[96]; int code; };

static struct stub_device devices[MAX_DEVICES];
static struct stub_proc procs[MAX_PROCS];
static struct stub_err errs[MAX_ERRS];
static unsigned int nDevices, nProcs, nErrs, growBy;
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
  nDevices = nProcs = nErrs = growBy = 0;
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
      if (sscanf(line + 5, "%u %u %31s", &p->dev, &p->pid, used) == 3) {
        p->usedBytes = strcmp(used, "NA") == 0 ? NOT_AVAILABLE : strtoull(used, NULL, 10);
        nProcs++;
      }
    } else if (strncmp(line, "err ", 4) == 0 && nErrs < MAX_ERRS) {
      if (sscanf(line + 4, "%95s %d", errs[nErrs].symbol, &errs[nErrs].code) == 2) nErrs++;
    } else if (strncmp(line, "pci ", 4) == 0) {
      unsigned dev; char bus[32];
      if (sscanf(line + 4, "%u %31s", &dev, bus) == 2 && dev < nDevices) snprintf(devices[dev].busId, sizeof devices[dev].busId, "%s", bus);
    } else if (strncmp(line, "grow ", 5) == 0) {
      growBy = (unsigned)atoi(line + 5);
    }
  }
  fclose(f);
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

#define ENTER(sym, needDevice, dev)                          \
  do {                                                       \
    int injected_ = enter(sym);                              \
    if (injected_) return injected_;                         \
    if (initCount <= 0) return 1; /* UNINITIALIZED */        \
    if ((needDevice) && !valid(dev)) return 2;               \
  } while (0)

nvmlReturn_t nvmlInit_v2(void) {
  int injected = enter("nvmlInit_v2");
  if (injected) return injected;
  initCount++;
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
  ENTER("nvmlDeviceGetName", 1, d);
  return copy_string(d->name, name, length);
}

nvmlReturn_t nvmlDeviceGetUUID(nvmlDevice_t d, char *uuid, unsigned int length) {
  ENTER("nvmlDeviceGetUUID", 1, d);
  return copy_string(d->uuid, uuid, length);
}

typedef struct { unsigned long long total, free, used; } nvmlMemory_t;
typedef struct { unsigned int version; unsigned long long total, reserved, free, used; } nvmlMemory_v2_t;

nvmlReturn_t nvmlDeviceGetMemoryInfo(nvmlDevice_t d, nvmlMemory_t *m) {
  ENTER("nvmlDeviceGetMemoryInfo", 1, d);
  if (!m) return 2;
  m->total = d->totalBytes;
  m->used = d->usedBytes;
  m->free = d->totalBytes - d->usedBytes;
  return 0;
}

#ifndef LEGACY
nvmlReturn_t nvmlDeviceGetMemoryInfo_v2(nvmlDevice_t d, nvmlMemory_v2_t *m) {
  ENTER("nvmlDeviceGetMemoryInfo_v2", 1, d);
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
  ENTER("nvmlDeviceGetUtilizationRates", 1, d);
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
    if (i < nProcs) { if (procs[i].dev != dev) continue; pid = procs[i].pid; used = procs[i].usedBytes; }
    else { pid = 900000 + (i - nProcs); used = 1048576ULL; }
    unsigned char *e = (unsigned char *)infos + (size_t)k * entrySize;
    memset(e, 0, entrySize);
    memcpy(e, &pid, 4);
    memcpy(e + 8, &used, 8);
    if (entrySize >= 24) { unsigned none = 0xFFFFFFFFu; memcpy(e + 16, &none, 4); memcpy(e + 20, &none, 4); }
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
