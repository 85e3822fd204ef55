// The agent's own Engine API client (src/runtime/docker/engine-client.ts) on the real engine: each call
// the Docker adapter makes, its errors (the status the adapter reads), and the same answers as dockerode.
import { afterAll, describe, expect, it } from 'vitest';
import { createDockerClient } from '../../src/runtime/docker/client.js';
import { EngineError } from '../../src/runtime/docker/engine-client.js';
import { requireServices } from '../helpers.js';
import { createAndStart, docker, dockerReachable, IMAGE, removeContainer, TEST_LABEL, testTag, waitFor } from './helpers.js';

const up = await dockerReachable();
if (!up && requireServices()) throw new Error('Docker Engine with flare-test/busybox is required (FLARE_TEST_REQUIRE_SERVICES)');

const engine = createDockerClient(null);
const created: string[] = [];
afterAll(async () => {
  for (const id of created) await removeContainer(id);
});

async function statusOf(p: Promise<unknown>): Promise<number> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(EngineError);
  return (e as EngineError).statusCode;
}

describe.skipIf(!up)('the agent\'s Engine API client (real engine)', () => {
  it('lists, inspects and kills as dockerode does, and reads the same JSON', async () => {
    const c = await createAndStart({ cmd: ['sleep', '60'], labels: { 'flare.case': 'engine-client' } });
    created.push(c.id);
    const running = await engine.listContainers({ all: false });
    expect(running.map((r) => r.Id)).toContain(c.id);
    const listed = running.find((r) => r.Id === c.id)!;
    expect(listed.Labels?.[TEST_LABEL]).toBe(testTag);
    expect(listed.State).toBe('running');
    expect(listed.Image).toBe(IMAGE);
    expect(typeof listed.Created).toBe('number');

    const info = await engine.getContainer(c.id).inspect();
    const theirs = await docker.getContainer(c.id).inspect();
    expect(info).toEqual(theirs);
    expect(info.State.Running).toBe(true);

    await engine.getContainer(c.id).kill({ signal: 'SIGKILL' });
    await waitFor(async () => !(await engine.getContainer(c.id).inspect()).State.Running, 10_000, 'the kill');
    expect((await engine.getContainer(c.id).inspect()).State.ExitCode).toBe(137);
    // Not running any more: 409, which the adapter takes as done.
    expect(await statusOf(engine.getContainer(c.id).kill({ signal: 'SIGKILL' }))).toBe(409);
    expect((await engine.listContainers({ all: false })).map((r) => r.Id)).not.toContain(c.id);
    const all = await engine.listContainers({ all: true });
    expect(all.find((r) => r.Id === c.id)?.State).toBe('exited');
  });

  it('answers an unknown container or image with the status the adapter reads, and the engine\'s message', async () => {
    const missing = engine.getContainer('f'.repeat(64)).inspect();
    expect(await statusOf(missing)).toBe(404);
    await expect(engine.getContainer('f'.repeat(64)).inspect()).rejects.toThrow(/HTTP code 404.*No such container/i);
    expect(await statusOf(engine.getImage('flare-test/no-such-image:none').inspect())).toBe(404);
  });

  it('inspects an image by a reference with a slash and a tag, and escapes one with odd characters', async () => {
    const image = (await engine.getImage(IMAGE).inspect()) as { Id: string };
    expect(image.Id).toBe(((await docker.getImage(IMAGE).inspect()) as { Id: string }).Id);
    expect(image.Id).toMatch(/^sha256:[0-9a-f]{64}$/);
    // Untrusted text in a reference goes into the path escaped: an error from the engine, never a request that breaks.
    const status = await statusOf(engine.getImage('team/image name?x=1#frag:tag').inspect());
    expect([400, 404]).toContain(status);
  });

  it('reads a container\'s past events between two instants, filtered', async () => {
    const since = Math.floor(Date.now() / 1000) - 1;
    const c = await createAndStart({ cmd: ['true'] });
    created.push(c.id);
    await c.wait();
    const until = Math.ceil(Date.now() / 1000) + 1;
    const stream = await engine.getEvents({ since, until, filters: { type: ['container'], container: [c.id], event: ['start', 'die'] } });
    let text = '';
    await new Promise<void>((resolve, reject) => {
      stream.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
      stream.on('end', () => resolve());
      stream.on('error', reject);
    });
    const events = text
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as { Action: string; Actor: { ID: string } });
    expect(events.map((e) => e.Action)).toEqual(['start', 'die']);
    expect(events.every((e) => e.Actor.ID === c.id)).toBe(true);
  });
});
