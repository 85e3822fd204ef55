# Stand-in for the `pynvml` package (nvidia-ml-py) so that the organisers' unmodified monitor script
# can run on a machine without a GPU: only `pynvml.smi.nvidia_smi` exists, reading the NVML stub's
# state file. Used by bench/official-compare.ts when it is given the real FLARE scripts.
