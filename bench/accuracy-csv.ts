// A large long-form accuracy CSV for the ranking's memory and speed: teams × cases × DSC and NSD,
// every row ranked, with the season's names (season-db.ts: team-01…, FLARETs_0001…) so its runs have
// accuracy too. 50 teams × 10 000 cases is 1 000 000 rows, 35 MB. Written a MiB at a time.
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';

export async function writeLargeAccuracyCsv(path: string, teams = 50, cases = 10_000): Promise<number> {
  const ws = createWriteStream(path);
  let rows = 0;
  let chunk = 'team,case,metric,value\n';
  for (let c = 1; c <= cases; c++) {
    for (let t = 1; t <= teams; t++) {
      const dsc = ((t * 7919 + c * 104729) % 1000) / 1000;
      const team = `team-${String(t).padStart(2, '0')}`;
      const caseName = `FLARETs_${String(c).padStart(4, '0')}`;
      chunk += `${team},${caseName},DSC,${dsc.toFixed(4)}\n${team},${caseName},NSD,${(1 - dsc).toFixed(4)}\n`;
      rows += 2;
    }
    if (chunk.length > 1 << 20) {
      if (!ws.write(chunk)) await once(ws, 'drain');
      chunk = '';
    }
  }
  ws.end(chunk);
  await once(ws, 'close');
  return rows;
}
