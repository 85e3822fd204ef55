// A synthetic abdominal case for the accuracy bench: 13 organs as ellipsoids in proportion to the
// volume, the prediction shifted and resized a little. Deterministic for a seed.

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

/** Ground truth and prediction of one case: 13 ellipsoids placed in proportion to the volume. */
export function makeCase(shape: [number, number, number], seed: number): { gt: Uint8Array; pred: Uint8Array } {
  const [n0, n1, n2] = shape;
  const gt = new Uint8Array(n0 * n1 * n2);
  const pred = new Uint8Array(gt.length);
  const random = rng(seed);
  const paint = (vol: Uint8Array, label: number, c: number[], r: number[]): void => {
    for (let k = Math.max(0, Math.floor(c[2] - r[2])); k <= Math.min(n2 - 1, c[2] + r[2]); k++)
      for (let j = Math.max(0, Math.floor(c[1] - r[1])); j <= Math.min(n1 - 1, c[1] + r[1]); j++)
        for (let i = Math.max(0, Math.floor(c[0] - r[0])); i <= Math.min(n0 - 1, c[0] + r[0]); i++)
          if (((i - c[0]) / r[0]) ** 2 + ((j - c[1]) / r[1]) ** 2 + ((k - c[2]) / r[2]) ** 2 <= 1) vol[i + n0 * (j + n1 * k)] = label;
  };
  // Organ sizes as fractions of the volume (liver largest, adrenals smallest).
  const sizes = [0.16, 0.05, 0.06, 0.07, 0.025, 0.03, 0.015, 0.015, 0.03, 0.02, 0.09, 0.05, 0.05];
  sizes.forEach((f, l) => {
    const c = [n0 * (0.2 + 0.6 * random()), n1 * (0.2 + 0.6 * random()), n2 * (0.25 + 0.5 * random())];
    const r = [n0 * f, n1 * f, Math.max(2, n2 * f * 1.5)];
    paint(gt, l + 1, c, r);
    paint(pred, l + 1, c.map((x, a) => x + (random() - 0.5) * [n0, n1, n2][a] * 0.02), r.map((x) => x * (0.9 + 0.2 * random())));
  });
  return { gt, pred };
}

