# The one call FLARE22's Efficiency.py makes: nvidia_smi.getInstance().DeviceQuery("memory.free,
# memory.total") -> {"gpu": [{"fb_memory_usage": {"total": MiB, "free": MiB, ...}}, ...]}.
# Values come from the NVML stub's state file (FLARE_NVML_STUB_STATE, the file the agent's stub
# library reads), so the script and the agent see the same device at the same moment.
# FLARE read device index 1 (the GPU it gave the container); the stub here has one device, so it is
# listed at index 0 and again at index 1.
import os

MIB = 1048576


def _devices():
    out = []
    try:
        with open(os.environ["FLARE_NVML_STUB_STATE"]) as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 4 and parts[0] == "device":
                    total, used = int(parts[2]), int(parts[3])
                    out.append({"fb_memory_usage": {"total": total // MIB, "used": used // MIB, "free": (total - used) // MIB, "unit": "MiB"}})
    except (OSError, KeyError, ValueError):
        pass
    if len(out) == 1:
        out.append(out[0])
    return out


class nvidia_smi:
    _instance = None

    @classmethod
    def getInstance(cls):
        if cls._instance is None:
            cls._instance = cls()
        return cls._instance

    def DeviceQuery(self, query=None):
        return {"gpu": _devices()}
