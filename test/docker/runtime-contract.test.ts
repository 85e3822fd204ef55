// The shared runtime contract (test/runtime/contract.ts) on the Docker attachment, real engine.
import { silentLogger } from '../../src/log.js';
import { DockerAdapter } from '../../src/runtime/docker/adapter.js';
import { createDockerClient } from '../../src/runtime/docker/client.js';
import { requireServices } from '../helpers.js';
import { runtimeContract, type RuntimeDriver } from '../runtime/contract.js';
import { createAndStart, docker, dockerReachable, removeContainer, startTestAgent, testTag } from './helpers.js';

const up = await dockerReachable();
if (!up && requireServices()) throw new Error('Docker Engine with flare-test/busybox is required (FLARE_TEST_REQUIRE_SERVICES)');

runtimeContract(up, async (): Promise<RuntimeDriver> => {
  const created: string[] = [];
  return {
    name: 'docker',
    tag: testTag,
    startAgent: async (overrides) => {
      const t = await startTestAgent(overrides);
      return { agent: t.agent, stop: () => t.stop() };
    },
    async run(w, detach = false) {
      const t0 = process.hrtime.bigint();
      const c = await createAndStart({ cmd: ['sh', '-c', w.script.replaceAll('$CPU_NS', 'cat /sys/fs/cgroup/cpuacct/cpuacct.usage')], labels: w.labels });
      created.push(c.id);
      if (!detach) await c.wait();
      const harnessWallSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
      const stdout = detach ? '' : (await c.logs({ stdout: true, stderr: false })).toString('latin1');
      return { id: c.id, harnessWallSeconds, stdout };
    },
    async wait(id) {
      await docker.getContainer(id).wait();
    },
    // The agent's own client, as `start` builds it (helpers' dockerode runs the containers).
    adapter: () => new DockerAdapter(createDockerClient(null), silentLogger),
    async cleanup() {
      for (const id of created) await removeContainer(id);
    },
  };
});
