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

/** The table and its notes; `boot`: the bootstrap's answer, null while it is computed. */
function board(r, boot) {
  const byTeam = new Map((boot?.bootstrap?.teams ?? []).map((t) => [t.team, t]));
  const n = r.teams.length;
  const pending = () => el('td', { class: 'muted pending' }, '…');
  const head = el('tr', {}, el('th', { class: 'num' }, 'place'), el('th', {}, 'team'), el('th', { class: 'num' }, 'score'),
    ...r.metrics.map((m) => el('th', { class: 'num' }, `${m} rank`)), el('th', {}, 'bootstrap 95 % place'), el('th', { class: 'num' }, 'P(top 3)'));
  const rows = r.teams.map((t) => {
    const b = byTeam.get(t.team);
    return el('tr', {}, el('td', { class: 'num' }, t.rank), el('td', { class: 'team' }, t.team), el('td', { class: 'num' }, fmt(t.score, 3)),
      ...r.metrics.map((m) => el('td', { class: 'num' }, fmt(t.meanRankByMetric[m], 2))),
      boot === null ? pending() : b ? intervalCell(b, n) : el('td', {}, '—'),
      boot === null ? pending() : el('td', { class: 'num' }, b ? fmt(b.pTop3, 2) : '—'));
  });
  const notes = [`${r.cases.length} cases; metrics ranked: ${r.metrics.join(', ') || 'none'}.`];
  if (r.skippedMetrics.length > 0) notes.push(`Not ranked here (no values; accuracy comes from \`flare-agent rank --accuracy\`): ${r.skippedMetrics.join(', ')}.`);
  if (boot === null) notes.push('Bootstrap intervals: computing…');
  else if (boot.bootstrap) notes.push(`Bootstrap: ${boot.bootstrap.resamples} resamples of the cases; Kendall's τ with the full ranking: median ${fmt(boot.bootstrap.kendallTau.median, 2)}.`);
  return [
    el('div', { class: 'wrap' }, el('table', { id: 'leaderboard', 'data-bootstrap': boot === null ? 'pending' : 'done' }, el('thead', {}, head), el('tbody', {}, ...rows))),
    el('p', { class: 'muted' }, notes.join(' ')),
  ];
}

/**
 * The ranking first (kept by the agent: milliseconds), then the bootstrap's intervals (a second or so
 * at season size the first time): the table is redrawn from the bootstrap's answer, which carries the
 * ranking it resampled, so places and intervals always belong together.
 */
export function leaderboardView(root, params) {
  const profile = PROFILES.includes(params.get('profile')) ? params.get('profile') : 'flare22';
  let stopped = false;
  const select = el('select', { id: 'lb-profile', onchange: (e) => (location.hash = `#/leaderboard?profile=${e.target.value}`) },
    ...PROFILES.map((p) => el('option', { value: p, selected: p === profile }, p)));
  const body = el('div', { id: 'lb-body' }, el('p', { class: 'muted' }, 'ranking…'));
  root.append(el('h2', {}, 'Leaderboard'), el('form', { class: 'filters' }, el('label', {}, 'profile', select)), body);
  const show = (r, boot) => {
    if (stopped) return false;
    clear(body);
    if (r.teams.length === 0) return void body.append(el('p', { class: 'muted' }, 'No finished runs yet.'));
    body.append(...board(r, boot));
    return true;
  };
  const fail = (e) => {
    if (!stopped) clear(body).append(el('p', { class: 'error' }, String(e.message)));
  };
  getJson(`api/v1/ranking?profile=${profile}`)
    .then((r) => {
      if (!show(r, null)) return;
      return getJson(`api/v1/ranking?profile=${profile}&bootstrap=1000&seed=1`).then((boot) => void show(boot, boot));
    })
    .catch(fail);
  return () => {
    stopped = true;
  };
}
