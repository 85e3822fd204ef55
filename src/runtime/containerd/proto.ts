// The few containerd API messages the agent uses (API v1, containerd 1.6+), declared here with
// protobufjs's reflection from the documented field names and numbers (docs/containerd.md). No npm
// package ships these definitions for Node; upstream .proto files are not copied into the project.
import protobuf from 'protobufjs';

const { Type, Field, MapField, Root } = protobuf;

const root = new Root();
const t = (name: string, fields: protobuf.FieldBase[]): protobuf.Type => {
  const type = new Type(name);
  for (const f of fields) type.add(f);
  root.add(type);
  return type;
};

export const Timestamp = t('Timestamp', [new Field('seconds', 1, 'int64'), new Field('nanos', 2, 'int32')]);
export const Any = t('Any', [new Field('typeUrl', 1, 'string'), new Field('value', 2, 'bytes')]);
export const Empty = t('Empty', []);

// containerd.services.containers.v1
export const Container = t('Container', [
  new Field('id', 1, 'string'),
  new MapField('labels', 2, 'string', 'string'),
  new Field('image', 3, 'string'),
  new Field('createdAt', 8, 'Timestamp'),
]);
export const ListContainersRequest = t('ListContainersRequest', [new Field('filters', 1, 'string', 'repeated')]);
export const ListContainersResponse = t('ListContainersResponse', [new Field('containers', 1, 'Container', 'repeated')]);
export const GetContainerRequest = t('GetContainerRequest', [new Field('id', 1, 'string')]);
export const GetContainerResponse = t('GetContainerResponse', [new Field('container', 1, 'Container')]);

// containerd.types.Process and containerd.services.tasks.v1
export const Process = t('Process', [
  new Field('containerId', 1, 'string'),
  new Field('id', 2, 'string'),
  new Field('pid', 3, 'uint32'),
  new Field('status', 4, 'int32'),
  new Field('exitStatus', 9, 'uint32'),
  new Field('exitedAt', 10, 'Timestamp'),
]);
export const GetTaskRequest = t('GetTaskRequest', [new Field('containerId', 1, 'string'), new Field('execId', 2, 'string')]);
export const GetTaskResponse = t('GetTaskResponse', [new Field('process', 1, 'Process')]);
export const ListTasksRequest = t('ListTasksRequest', [new Field('filter', 1, 'string')]);
export const ListTasksResponse = t('ListTasksResponse', [new Field('tasks', 1, 'Process', 'repeated')]);
export const KillRequest = t('KillRequest', [
  new Field('containerId', 1, 'string'),
  new Field('execId', 2, 'string'),
  new Field('signal', 3, 'uint32'),
  new Field('all', 4, 'bool'),
]);

// containerd.services.events.v1 and containerd.events
export const SubscribeRequest = t('SubscribeRequest', [new Field('filters', 1, 'string', 'repeated')]);
export const Envelope = t('Envelope', [
  new Field('timestamp', 1, 'Timestamp'),
  new Field('namespace', 2, 'string'),
  new Field('topic', 3, 'string'),
  new Field('event', 4, 'Any'),
]);
export const TaskStart = t('TaskStart', [new Field('containerId', 1, 'string'), new Field('pid', 2, 'uint32')]);
export const TaskExit = t('TaskExit', [
  new Field('containerId', 1, 'string'),
  new Field('id', 2, 'string'),
  new Field('pid', 3, 'uint32'),
  new Field('exitStatus', 4, 'uint32'),
  new Field('exitedAt', 5, 'Timestamp'),
]);
export const TaskOOM = t('TaskOOM', [new Field('containerId', 1, 'string')]);
export const ContainerDelete = t('ContainerDelete', [new Field('id', 1, 'string')]);

root.resolveAll();

/** containerd.types.Process status values. */
export const TASK_RUNNING = 2;

/** A decoded message as plain values (int64 as number, bytes as Buffer, maps as objects). */
export function decode<T>(type: protobuf.Type, buf: Uint8Array): T {
  return type.toObject(type.decode(buf), { longs: Number, bytes: Buffer, defaults: true, objects: true }) as T;
}

export function encode(type: protobuf.Type, value: Record<string, unknown>): Buffer {
  return Buffer.from(type.encode(type.fromObject(value)).finish());
}

export interface TimestampValue {
  seconds: number;
  nanos: number;
}

/** Nanoseconds since the epoch (BigInt: a Timestamp has ns precision), or null for an unset one (zero, or Go's zero time: year 1). */
export function timestampNs(ts: TimestampValue | null | undefined): bigint | null {
  if (!ts || ts.seconds <= 0) return null;
  return BigInt(ts.seconds) * 1_000_000_000n + BigInt(ts.nanos);
}
