// containerd's own gRPC API over its socket, through @grpc/grpc-js: the calls the attachment needs,
// every one in one namespace (the `containerd-namespace` metadata header; kubelet's is k8s.io).
import * as grpc from '@grpc/grpc-js';
import type protobuf from 'protobufjs';
import * as P from './proto.js';

export interface CtrContainer {
  id: string;
  labels: Record<string, string>;
  image: string;
}

export interface CtrTask {
  containerId: string;
  pid: number;
  status: number;
  exitStatus: number;
  exitedAtNs: bigint | null;
}

export type CtrEvent =
  | { topic: '/tasks/start'; timeNs: bigint | null; containerId: string; pid: number }
  | { topic: '/tasks/exit'; timeNs: bigint | null; containerId: string; execId: string; pid: number; exitStatus: number; exitedAtNs: bigint | null }
  | { topic: '/tasks/oom'; timeNs: bigint | null; containerId: string }
  | { topic: '/containers/delete'; timeNs: bigint | null; containerId: string };

const CONTAINERS = '/containerd.services.containers.v1.Containers/';
const TASKS = '/containerd.services.tasks.v1.Tasks/';
const EVENTS = '/containerd.services.events.v1.Events/Subscribe';
const CALL_TIMEOUT_MS = 10_000;

const ser = (type: protobuf.Type) => (v: Record<string, unknown>): Buffer => P.encode(type, v);
const de = <T>(type: protobuf.Type) => (b: Buffer): T => P.decode<T>(type, b);

export class ContainerdClient {
  private readonly client: grpc.Client;
  private readonly meta: grpc.Metadata;

  constructor(readonly address: string, readonly namespace: string) {
    this.client = new grpc.Client(`unix://${address}`, grpc.credentials.createInsecure());
    this.meta = new grpc.Metadata();
    this.meta.set('containerd-namespace', namespace);
  }

  private unary<Res>(path: string, reqType: protobuf.Type, resType: protobuf.Type, req: Record<string, unknown>): Promise<Res> {
    return new Promise((resolve, reject) => {
      this.client.makeUnaryRequest(path, ser(reqType), de<Res>(resType), req, this.meta, { deadline: Date.now() + CALL_TIMEOUT_MS }, (err, res) => {
        if (err) reject(err);
        else resolve(res as Res);
      });
    });
  }

  async listContainers(): Promise<CtrContainer[]> {
    const res = await this.unary<{ containers: CtrContainer[] }>(`${CONTAINERS}List`, P.ListContainersRequest, P.ListContainersResponse, { filters: [] });
    return res.containers.map((c) => ({ id: c.id, labels: c.labels ?? {}, image: c.image }));
  }

  /** null when containerd does not know it (NOT_FOUND). */
  async getContainer(id: string): Promise<CtrContainer | null> {
    try {
      const res = await this.unary<{ container: CtrContainer }>(`${CONTAINERS}Get`, P.GetContainerRequest, P.GetContainerResponse, { id });
      return { id: res.container.id, labels: res.container.labels ?? {}, image: res.container.image };
    } catch (e) {
      if ((e as grpc.ServiceError).code === grpc.status.NOT_FOUND) return null;
      throw e;
    }
  }

  private static task(p: { containerId: string; id: string; pid: number; status: number; exitStatus: number; exitedAt: P.TimestampValue | null }): CtrTask {
    // Tasks.List and Get fill `id` (the container's id for its init process) and may leave container_id empty.
    return { containerId: p.containerId || p.id, pid: p.pid, status: p.status, exitStatus: p.exitStatus, exitedAtNs: P.timestampNs(p.exitedAt) };
  }

  /** The container's init task; null when it has none (created, or deleted). */
  async getTask(containerId: string): Promise<CtrTask | null> {
    try {
      const res = await this.unary<{ process: Parameters<typeof ContainerdClient.task>[0] }>(`${TASKS}Get`, P.GetTaskRequest, P.GetTaskResponse, { containerId });
      return ContainerdClient.task(res.process);
    } catch (e) {
      if ((e as grpc.ServiceError).code === grpc.status.NOT_FOUND) return null;
      throw e;
    }
  }

  async listTasks(): Promise<CtrTask[]> {
    const res = await this.unary<{ tasks: Parameters<typeof ContainerdClient.task>[0][] }>(`${TASKS}List`, P.ListTasksRequest, P.ListTasksResponse, {});
    return res.tasks.map((t) => ContainerdClient.task(t));
  }

  /** Signals every process of the container's task (all: the whole cgroup, as `ctr task kill -a`). */
  async kill(containerId: string, signal: number): Promise<void> {
    await this.unary(`${TASKS}Kill`, P.KillRequest, P.Empty, { containerId, signal, all: true });
  }

  /** The namespace's task and container events; `onEnd` once the stream ends or fails. */
  subscribe(onEvent: (e: CtrEvent) => void, onEnd: (err: Error | null) => void): () => void {
    const filters = ['topic=="/tasks/start"', 'topic=="/tasks/exit"', 'topic=="/tasks/oom"', 'topic=="/containers/delete"'].map((f) => `namespace==${this.namespace},${f}`);
    type Envelope = { timestamp: P.TimestampValue | null; namespace: string; topic: string; event: { typeUrl: string; value: Buffer } | null };
    const call = this.client.makeServerStreamRequest(EVENTS, ser(P.SubscribeRequest), de<Envelope>(P.Envelope), { filters }, this.meta);
    let ended = false;
    const end = (err: Error | null): void => {
      if (ended) return;
      ended = true;
      onEnd(err);
    };
    call.on('data', (env: { timestamp: P.TimestampValue | null; namespace: string; topic: string; event: { typeUrl: string; value: Buffer } | null }) => {
      const e = decodeEvent(env.topic, P.timestampNs(env.timestamp), env.event?.value ?? Buffer.alloc(0));
      if (e) onEvent(e);
    });
    call.on('error', (err: Error) => end(err));
    call.on('end', () => end(null));
    return () => {
      ended = true;
      call.cancel();
    };
  }

  close(): void {
    this.client.close();
  }
}

/** One envelope's payload by topic; null for topics the agent does not use. */
export function decodeEvent(topic: string, timeNs: bigint | null, value: Uint8Array): CtrEvent | null {
  switch (topic) {
    case '/tasks/start': {
      const e = P.decode<{ containerId: string; pid: number }>(P.TaskStart, value);
      return { topic, timeNs, containerId: e.containerId, pid: e.pid };
    }
    case '/tasks/exit': {
      const e = P.decode<{ containerId: string; id: string; pid: number; exitStatus: number; exitedAt: P.TimestampValue | null }>(P.TaskExit, value);
      return { topic, timeNs, containerId: e.containerId, execId: e.id, pid: e.pid, exitStatus: e.exitStatus, exitedAtNs: P.timestampNs(e.exitedAt) };
    }
    case '/tasks/oom':
      return { topic, timeNs, containerId: P.decode<{ containerId: string }>(P.TaskOOM, value).containerId };
    case '/containers/delete':
      return { topic, timeNs, containerId: P.decode<{ id: string }>(P.ContainerDelete, value).id };
    default:
      return null;
  }
}
