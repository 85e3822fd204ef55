// Leaderboard: FLARE's rank-then-aggregate over the stored runs' efficiency under a profile, with
// the bootstrap's 95 % rank interval drawn per team (a bar from the low to the high place, a dot at
// the median) so the reader sees how stable each place is, not just the table.
import { getJson } from './api.js';
import { clear, el, fmt } from './dom.js';

const PROFILES = ['flare22', 'flare23', 'flare24', 'flare21', 'generic'];

/** The interval on a track of places 1 … n: left = best. */
function intervalCell(t, n) {
  const span = Math.max(1, n - 1);
  const pos = (place) => ((place - 1) / span) * 100;
  const track = el('span', { class: 'rank-track', title: `median ${t.medianRank}, 95 % ${t.rankLow}–${t.rankHigh}` },
    el('span', { class: 'rank-interval', style: `left:${pos(t.rankLow).toFixed(2)}%;width:${Math.max(1.5, pos(t.rankHigh) - pos(t.rankLow)).toFixed(2)}%` }),
    el('span', { class: 'rank-median', style: `left:${pos(t.medianRank).toFixed(2)}%` }));
  return el('td', {}, track, ` ${fmt(t.rankLow, 1)}–${fmt(t.rankHigh, 1)}`);
}

export function leaderboardView(root, params) {
  const profile = PROFILES.includes(params.get('profile')) ? params.get('profile') : 'flare22';
  let stopped = false;
  const select = el('select', { id: 'lb-profile', onchange: (e) => (location.hash = `#/leaderboard?profile=${e.target.value}`) },
    ...PROFILES.map((p) => el('option', { value: p, selected: p === profile }, p)));
  const body = el('div', { id: 'lb-body' }, el('p', { class: 'muted' }, 'ranking…'));
  root.append(el('h2', {}, 'Leaderboard'), el('form', { class: 'filters' }, el('label', {}, 'profile', select)), body);
  getJson(`api/v1/ranking?profile=${profile}&bootstrap=1000&seed=1`).then((r) => {
    if (stopped) return;
    clear(body);
    if (r.teams.length === 0) return void body.append(el('p', { class: 'muted' }, 'No finished runs yet.'));
    const boot = new Map((r.bootstrap?.teams ?? []).map((t) => [t.team, t]));
    const n = r.teams.length;
    const head = el('tr', {}, el('th', { class: 'num' }, 'place'), el('th', {}, 'team'), el('th', { class: 'num' }, 'score'),
      ...r.metrics.map((m) => el('th', { class: 'num' }, `${m} rank`)), el('th', {}, 'bootstrap 95 % place'), el('th', { class: 'num' }, 'P(top 3)'));
    const rows = r.teams.map((t) => {
      const b = boot.get(t.team);
      return el('tr', {}, el('td', { class: 'num' }, t.rank), el('td', { class: 'team' }, t.team), el('td', { class: 'num' }, fmt(t.score, 3)),
        ...r.metrics.map((m) => el('td', { class: 'num' }, fmt(t.meanRankByMetric[m], 2))),
        b ? intervalCell(b, n) : el('td', {}, '—'), el('td', { class: 'num' }, b ? fmt(b.pTop3, 2) : '—'));
    });
    const notes = [`${r.cases.length} cases; metrics ranked: ${r.metrics.join(', ') || 'none'}.`];
    if (r.skippedMetrics.length > 0) notes.push(`Not ranked here (no values; accuracy comes from \`flare-agent rank --accuracy\`): ${r.skippedMetrics.join(', ')}.`);
    if (r.bootstrap) notes.push(`Bootstrap: ${r.bootstrap.resamples} resamples of the cases; Kendall's τ with the full ranking: median ${fmt(r.bootstrap.kendallTau.median, 2)}.`);
    body.append(el('div', { class: 'wrap' }, el('table', { id: 'leaderboard' }, el('thead', {}, head), el('tbody', {}, ...rows))), el('p', { class: 'muted' }, notes.join(' ')));
  }).catch((e) => {
    if (!stopped) clear(body).append(el('p', { class: 'error' }, String(e.message)));
  });
  return () => {
    stopped = true;
  };
}
