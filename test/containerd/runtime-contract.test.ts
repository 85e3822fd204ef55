// The shared runtime contract (test/runtime/contract.ts) on the containerd attachment, against a real,
// standalone containerd 1.6 and pods made as kubelet makes them (test/containerd/helpers.ts).
import type { AgentConfig } from '../../src/agent/config.js';
import { ContainerdAdapter } from '../../src/runtime/containerd/adapter.js';
import { ContainerdClient } from '../../src/runtime/containerd/client.js';
import { requireServices } from '../helpers.js';
import { runtimeContract, type RuntimeDriver } from '../runtime/contract.js';
import { containerdInstalled, makePod, NAMESPACE, runWorkload, startContainerd, startContainerdAgent, type Pod } from './helpers.js';

const available = containerdInstalled();
if (!available && requireServices()) throw new Error('containerd (apt: containerd), ctr, root and the flare-test/busybox image are required (FLARE_TEST_REQUIRE_SERVICES)');
const tag = Math.random().toString(16).slice(2, 10);

runtimeContract(available, async (): Promise<RuntimeDriver> => {
  const c = await startContainerd();
  const pods = new Map<string, Pod>();
  return {
    name: 'containerd',
    tag,
    async startAgent(overrides: Partial<AgentConfig> = {}) {
      const agent = await startContainerdAgent(c, tag, overrides);
      return { agent, stop: () => agent.stop() };
    },
    async run(w, detach = false) {
      const spec = { podLabels: w.labels, cmd: w.script.replaceAll('$CPU_NS', 'cpu_ns') };
      const pod = makePod(c, spec);
      pods.set(pod.containerId, pod);
      const t0 = process.hrtime.bigint();
      const stdout = await runWorkload(c, pod, spec, detach);
      return { id: pod.containerId, harnessWallSeconds: Number(process.hrtime.bigint() - t0) / 1e9, stdout };
    },
    async wait(id) {
      for (let i = 0; i < 600; i++) {
        const line = c.ctr(['task', 'ls']).split('\n').find((l) => l.startsWith(id + ' '));
        if (!line || /STOPPED/.test(line)) return;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`task ${id} did not stop`);
    },
    adapter: () => new ContainerdAdapter(new ContainerdClient(c.address, NAMESPACE)),
    async cleanup() {
      for (const pod of pods.values()) pod.remove();
      await c.stop();
    },
  };
});
