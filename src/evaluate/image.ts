// The team's image: `docker load` of a tarball (.tar or .tar.gz) or an existing name:tag.
import { createReadStream, statSync } from 'node:fs';
import type Docker from 'dockerode';

export interface TeamImage {
  /** What containers are created from (a name:tag, or the image id when the tarball had no tag). */
  ref: string;
  imageId: string;
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** The references `docker load` reports ("Loaded image: x:y", "Loaded image ID: sha256:…"). */
export function loadedRefs(messages: readonly { stream?: string }[]): string[] {
  const refs: string[] = [];
  for (const m of messages) {
    const match = /^Loaded image(?: ID)?: (\S+)/.exec((m.stream ?? '').trim());
    if (match) refs.push(match[1]);
  }
  return refs;
}

async function load(docker: Docker, path: string): Promise<string> {
  // Docker accepts gzip-compressed archives on this endpoint as `docker load` does.
  const stream = await docker.loadImage(createReadStream(path), { quiet: true });
  const messages = await new Promise<{ stream?: string; error?: string }[]>((resolve, reject) =>
    docker.modem.followProgress(stream, (err: Error | null, out: { stream?: string; error?: string }[]) => (err ? reject(err) : resolve(out))),
  );
  const failed = messages.find((m) => m.error);
  if (failed) throw new Error(`docker load ${path}: ${failed.error}`);
  const refs = loadedRefs(messages);
  if (refs.length === 0) throw new Error(`docker load ${path}: no image reported`);
  return refs[0];
}

/** Loads the tarball when `spec` is a file, then resolves the image id. */
export async function resolveImage(docker: Docker, spec: string): Promise<TeamImage> {
  const ref = isFile(spec) ? await load(docker, spec) : spec;
  let info;
  try {
    info = await docker.getImage(ref).inspect();
  } catch (e) {
    throw new Error(`image ${ref}: ${(e as Error).message}`);
  }
  return { ref, imageId: info.Id };
}
