import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Integration tests share one dockerd, one Prometheus and the cgroup tree: run files one at a time
    // so that timing-sensitive measurements are not disturbed by each other on a 2-core machine.
    fileParallelism: false,
    reporters: ['default'],
  },
});
