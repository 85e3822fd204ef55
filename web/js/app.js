// Hash router: #/ node view, #/runs?… runs view, #/run/<id> run detail, #/leaderboard?profile=…. Each view returns a stop()
// that cancels its polling when the page moves on.
import { interceptApiLinks } from './api.js';
import { clear } from './dom.js';
import { nodeView } from './node-view.js';
import { runsView } from './runs-view.js';
import { runDetailView } from './run-detail.js';
import { leaderboardView } from './leaderboard-view.js';

const view = document.getElementById('view');
let stop = null;

function route() {
  if (stop) stop();
  stop = null;
  clear(view);
  const hash = location.hash.replace(/^#/, '') || '/';
  const [path, query] = hash.split('?');
  const params = new URLSearchParams(query ?? '');
  let nav = 'node';
  if (path.startsWith('/run/')) {
    nav = 'runs';
    stop = runDetailView(view, decodeURIComponent(path.slice('/run/'.length)));
  } else if (path === '/leaderboard') {
    nav = 'leaderboard';
    stop = leaderboardView(view, params);
  } else if (path === '/runs') {
    nav = 'runs';
    stop = runsView(view, params);
  } else {
    stop = nodeView(view);
  }
  for (const a of document.querySelectorAll('[data-nav]')) a.classList.toggle('active', a.dataset.nav === nav);
}

interceptApiLinks();
window.addEventListener('hashchange', route);
route();
